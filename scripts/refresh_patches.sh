#!/usr/bin/env bash
# Regenerate a patch series from a patched git branch (after a rebase onto a new Immich release, or
# after editing a patch as a commit).
#
#   scripts/refresh_patches.sh IMMICH_GIT_DIR BASE [VERSION]
#
# IMMICH_GIT_DIR is an Immich checkout whose commits BASE..HEAD are the series, one concern each;
# BASE is the pristine release (a tag such as v2.4.1, or the commit of the extracted tree).
# VERSION defaults to the one in IMMICH_GIT_DIR/server/package.json. The series folder
# patches/v<VERSION> is rewritten: one `git format-patch` file per commit and a `series` file listing
# them in order. Build outputs (node_modules, dist, build) never enter a patch.
#
# Workflow for a new Immich release N:
#   git -C immich checkout -b aio vN-1 && scripts/apply_patches.sh immich  # or git am patches/vN-1/*.patch
#   git -C immich rebase --onto vN vN-1 aio          # resolve conflicts commit by commit
#   scripts/refresh_patches.sh immich vN             # writes patches/vN/
#   scripts/apply_patches.sh --check <pristine vN>   # validates the new series against a pristine tree
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] && [ $# -le 3 ] || { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
repo=$1 base=$2
version=${3:-$(sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' "$repo/server/package.json" | head -1)}
[ -n "$version" ] || { echo "refresh_patches: cannot read the version from $repo/server/package.json" >&2; exit 2; }

count=$(git -C "$repo" rev-list --count "$base..HEAD")
[ "$count" -gt 0 ] || { echo "refresh_patches: no commits in $base..HEAD" >&2; exit 1; }

target=${AIO_PATCHES_DIR:-$root/patches}/v$version
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# --zero-commit and --no-signature keep the files stable from one refresh to the next.
git -C "$repo" format-patch -q --no-signature --zero-commit --no-stat -o "$staging" "$base..HEAD" -- . \
  ':(exclude,glob)**/node_modules/**' ':(exclude,glob)**/dist/**' ':(exclude)open-api/typescript-sdk/build'
{
  echo "# Immich v$version: apply in this order (scripts/apply_patches.sh). Made by scripts/refresh_patches.sh."
  (cd "$staging" && ls -1 ./*.patch | sed 's|^\./||')
} > "$staging/series"

mkdir -p "$target"
rm -f "$target"/*.patch "$target/series"
cp "$staging"/*.patch "$staging/series" "$target/"
echo "refresh_patches: wrote $count patches and the series to $target"
