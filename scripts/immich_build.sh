#!/usr/bin/env bash
# Build Immich natively (no Docker; docs/immich-native.md): Node 24 + pnpm from npm, a working copy of
# the pristine Immich tree, `pnpm install`, then the server (and, with --web, the web).
#
#   scripts/immich_build.sh [--patched] [--web] [--print-dir]
#   scripts/immich_build.sh --print-source
#
# The pristine tree comes from IMMICH_SRC, else ${XDG_CACHE_HOME:-~/.cache}/immich-all-in-one/immich-v$IMMICH_VERSION,
# which is made on first use by scripts/upstream_source.sh (release archive or clone) and committed as a
# one-commit git repository. It is never modified: the build happens in a copy (AIO_IMMICH_WORK, default
# .../work/immich-v$VERSION[-patched]). --patched applies patches/v$VERSION with scripts/apply_patches.sh
# to that copy first. --print-dir prints the working copy's path on the last line of stdout (for callers);
# --print-source only makes sure the pristine tree exists and prints its path.
# Exit codes: 0 built; 3 no Immich source here (the caller skips its tier); anything else is a failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

version=${IMMICH_VERSION:-2.4.1}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/immich-all-in-one
patched=0 web=0 print_dir=0 print_source=0
for arg in "$@"; do
  case "$arg" in
    --patched) patched=1 ;;
    --web) web=1 ;;
    --print-dir) print_dir=1 ;;
    --print-source) print_source=1 ;;
    *) echo "usage: $0 [--patched] [--web] [--print-dir] | --print-source" >&2; exit 2 ;;
  esac
done

src=${IMMICH_SRC:-$cache/immich-v$version}
if [ ! -f "$src/server/package.json" ]; then
  if [ -n "${IMMICH_SRC:-}" ]; then
    echo "immich_build: no Immich source at IMMICH_SRC=$src" >&2
    exit 3
  fi
  rm -rf "$src.partial"
  "$root/scripts/upstream_source.sh" "immich-v$version" "$src.partial" || exit 3
  (cd "$src.partial" && git init -q && git add -A \
     && git -c user.name=aio -c user.email=aio@localhost commit -qm "Immich v$version (pristine)")
  mv "$src.partial" "$src"
fi
if [ "$print_source" = 1 ]; then
  echo "$src"
  exit 0
fi

# Toolchain: Debian's node is too old for Immich; npm's node@24 package ships the binary.
tools=$cache/toolchain
# playwright-core drives Debian's chromium in the e2e tier; it never downloads a browser of its own.
toolchain=(node@24 pnpm@10 playwright-core@1.65.1)
if [ ! -x "$tools/node_modules/.bin/pnpm" ] || [ ! -x "$tools/node_modules/.bin/node" ] \
   || [ ! -f "$tools/node_modules/playwright-core/package.json" ]; then
  echo "immich_build: installing ${toolchain[*]} into $tools" >&2
  mkdir -p "$tools"
  npm install --silent --prefix "$tools" "${toolchain[@]}" >&2
fi
export PATH="$tools/node_modules/.bin:$PATH"
# pnpm refuses to switch to the workspace's pinned pnpm here ("no registry signature"). Immich 3 pins
# pnpm 11, which refuses any other version: it gets exactly the pinned one, in a folder of its own.
export npm_config_manage_package_manager_versions=false
pinned=$(sed -n 's/^ *"packageManager": "pnpm@\([0-9.]*\)".*/\1/p' "$src/package.json")
case "$pinned" in
  ""|10.*) ;;
  *)
    pnpm_tools=$tools/pnpm-$pinned
    if [ ! -x "$pnpm_tools/node_modules/.bin/pnpm" ]; then
      echo "immich_build: installing pnpm@$pinned into $pnpm_tools" >&2
      npm install --silent --prefix "$pnpm_tools" "pnpm@$pinned" >&2
    fi
    export PATH="$pnpm_tools/node_modules/.bin:$PATH"
    ;;
esac
# A ~/.npmrc nodedir for another node would make native modules build against the wrong headers.
export npm_config_nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"

suffix=""; [ "$patched" = 1 ] && suffix="-patched"
work=${AIO_IMMICH_WORK:-$cache/work/immich-v$version$suffix}
mkdir -p "$work"
# The build is redone only when its inputs changed: the pristine tree, the patches, the flags.
build_inputs() {
  git -C "$src" rev-parse HEAD 2>/dev/null || find "$src/server" "$src/web" -type f -printf '%T@ %p\n' | sort
  if [ "$patched" = 1 ]; then cat "$root/patches/v$version/"*; fi
  echo "web=$web"
}
inputs=$(build_inputs | sha256sum | cut -d' ' -f1)
stamp="$work/.aio-build-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ] && [ -f "$work/server/dist/main.js" ]; then
  echo "immich_build: $work is up to date" >&2
  [ "$print_dir" = 1 ] && echo "$work"
  exit 0
fi
rm -f "$stamp"
# Refresh the copy from the pristine tree, keeping node_modules and build outputs between runs.
rsync -a --delete --exclude node_modules --exclude dist --exclude build --exclude .svelte-kit \
  --exclude .git --exclude .aio-build-stamp "$src/" "$work/"
if [ "$patched" = 1 ]; then
  (cd "$work" && rm -rf .git && git init -q && git add -A && git -c user.name=aio -c user.email=aio@localhost commit -qm pristine)
  "$root/scripts/apply_patches.sh" "$work" "$version" >&2
fi

cd "$work"
filters=(--filter "immich..." --filter "@immich/sdk...")
[ "$web" = 1 ] && filters+=(--filter "immich-web...")
echo "immich_build: pnpm install in $work" >&2
pnpm install --frozen-lockfile --prefer-offline "${filters[@]}" >&2
echo "immich_build: building the server" >&2
if [ -d packages/plugin-sdk ]; then
  # Immich 3: the server imports workspace packages (@immich/sdk, @immich/plugin-sdk) built first.
  pnpm --filter "immich^..." run build >&2
fi
(cd server && pnpm build) >&2
if [ "$web" = 1 ]; then
  echo "immich_build: building the SDK and the web" >&2
  pnpm --filter @immich/sdk build >&2
  pnpm --filter immich-web build >&2
fi
echo "$inputs" > "$stamp"
[ "$print_dir" = 1 ] && echo "$work"
exit 0
