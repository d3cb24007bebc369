#!/usr/bin/env bash
# Apply immich-all-in-one's patch series to an Immich source tree: all patches or none.
#
#   scripts/apply_patches.sh [--check] [--force] IMMICH_DIR [VERSION]
#
# The version comes from IMMICH_DIR/server/package.json and picks patches/v<version>/series; a VERSION
# argument names the series explicitly (a tree whose package.json says otherwise needs --force).
# Every patch is first applied, in series order, to a scratch copy of the files the series touches;
# only when all of them apply is the result written into IMMICH_DIR. A tree that already carries the
# whole series is recognised and left alone.
#
#   --check   report what would happen; never write
#   --force   apply to a git tree with uncommitted changes, or across a version mismatch
#
# Exit codes:
#   0  applied (with --check: would apply), or the tree is already patched
#   1  a patch does not apply: the patch, file and line are reported; nothing was changed
#   2  usage error
#   3  no patch series for this Immich version
#   4  IMMICH_DIR is not an Immich source tree, or VERSION differs from it (without --force)
#   5  IMMICH_DIR is a git tree with uncommitted changes (without --force)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
patches_root=${AIO_PATCHES_DIR:-$root/patches}

usage() { sed -n '2,21s/^# \{0,1\}//p' "$0" >&2; exit 2; }
say() { echo "apply_patches: $*" >&2; }

check=0 force=0 args=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --force) force=1 ;;
    -h|--help) usage ;;
    -*) say "unknown option $arg"; usage ;;
    *) args+=("$arg") ;;
  esac
done
[ "${#args[@]}" -ge 1 ] && [ "${#args[@]}" -le 2 ] || usage
tree=${args[0]}
wanted=${args[1]:-}

if [ ! -f "$tree/server/package.json" ]; then
  say "$tree is not an Immich source tree (no server/package.json)"
  exit 4
fi
tree=$(cd "$tree" && pwd)
detected=$(sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' "$tree/server/package.json" | head -1)
version=${wanted:-$detected}
if [ -n "$wanted" ] && [ "$wanted" != "$detected" ] && [ "$force" = 0 ]; then
  say "$tree is Immich $detected, not $wanted (use --force to apply the $wanted series anyway)"
  exit 4
fi

series_dir=$patches_root/v$version
series=$series_dir/series
if [ ! -f "$series" ]; then
  available=$(cd "$patches_root" 2>/dev/null && ls -d v*/ 2>/dev/null | tr -d / | tr '\n' ' ')
  say "no patch series for Immich $version (available: ${available:-none})"
  exit 3
fi
mapfile -t names < <(grep -v -e '^\s*#' -e '^\s*$' "$series")
patch_files=()
for name in "${names[@]}"; do
  [ -f "$series_dir/$name" ] || { say "series lists $name, which is missing from $series_dir"; exit 3; }
  patch_files+=("$series_dir/$name")
done

# The files the series touches, old and new names alike.
mapfile -t touched < <(sed -n 's|^diff --git a/\(.*\) b/\(.*\)$|\1\n\2|p' "${patch_files[@]}" | sort -u)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fresh_copy() {
  rm -rf "$scratch/tree" && mkdir -p "$scratch/tree"
  for path in "${touched[@]}"; do
    if [ -e "$tree/$path" ]; then
      mkdir -p "$scratch/tree/$(dirname "$path")"
      cp -p "$tree/$path" "$scratch/tree/$path"
    fi
  done
}

# Apply (or reverse) the series in the scratch copy; on failure print which patch and where.
run_series() {
  local direction=$1 report=$2 order=("${patch_files[@]}")
  local flags=()
  if [ "$direction" = reverse ]; then
    flags=(--reverse)
    order=()
    for ((i = ${#patch_files[@]} - 1; i >= 0; i--)); do order+=("${patch_files[$i]}"); done
  fi
  for patch in "${order[@]}"; do
    # Outside a repository git apply works like patch(1); --unsafe-paths is not needed: paths are relative.
    if ! output=$(cd "$scratch/tree" && git apply "${flags[@]}" --whitespace=nowarn -v "$patch" 2>&1); then
      if [ "$report" = 1 ]; then
        say "$(basename "$patch") does not apply to $tree:"
        # git says "error: patch failed: FILE:LINE": the file, and the line where the hunk was expected.
        echo "$output" | grep -E '^error:' | sed 's/^/  /' >&2
      fi
      return 1
    fi
  done
}

fresh_copy
if run_series reverse 0; then
  say "$tree already carries all ${#patch_files[@]} patches of v$version: nothing to do"
  exit 0
fi

if git -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  dirty=$(git -C "$tree" status --porcelain --untracked-files=no)
  if [ -n "$dirty" ] && [ "$force" = 0 ] && [ "$check" = 0 ]; then
    say "$tree has uncommitted changes (use --force to apply anyway):"
    echo "$dirty" | head -20 >&2
    exit 5
  fi
fi

fresh_copy
if run_series forward 0; then
  if [ "$check" = 1 ]; then
    say "Immich $detected: all ${#patch_files[@]} patches of v$version apply to $tree"
    exit 0
  fi
  for path in "${touched[@]}"; do
    if [ -e "$scratch/tree/$path" ]; then
      mkdir -p "$tree/$(dirname "$path")"
      cp -p "$scratch/tree/$path" "$tree/$path"
    else
      rm -f "$tree/$path"  # deleted by the series
    fi
  done
  say "Immich $detected: applied ${#patch_files[@]} patches of v$version to $tree"
  exit 0
fi

fresh_copy
run_series forward 1 || true
say "nothing was changed in $tree"
exit 1
