#!/usr/bin/env bash
# The one way the project gets outside source code: the pinned refs below, unpacked into DEST.
#
#   scripts/upstream_source.sh NAME DEST      NAME: immich-v2.4.1 | immich-v3.1.0 | scws | zhparser
#
# From $AIO_UPSTREAM_ARCHIVES/<archive> when that directory has the archive (CI points it at a folder of
# release archives), else a clone of the same ref where a network exists. DEST receives the tree itself
# (the archive's top folder stripped). Exit codes: 0 done, 2 usage, 3 neither archive nor clone worked.
set -euo pipefail

name=${1:-} dest=${2:-}
case "$name" in
  immich-v2.4.1) archive=immich-v2.4.1.tar.gz repo=https://github.com/immich-app/immich.git
                 ref=50d7956c0770de5543c7b7da80ff2b9c29649720 ;;  # tag v2.4.1
  immich-v3.1.0) archive=immich-v3.1.0.tar.gz repo=https://github.com/immich-app/immich.git
                 ref=8aa95c67470a02a8ddedf03c2e52963af33065ff ;;  # "chore: version v3.1.0"
  scws)          archive=scws-1.2.3.tar.gz repo=https://github.com/hightman/scws.git
                 ref=a04ef5e655213eb6b07fb57761d0eac72c281ad4 ;;  # tag 1.2.3
  zhparser)      archive=zhparser-2e995c4.tar.gz repo=https://github.com/amutu/zhparser.git
                 ref=2e995c4df672563992b4d7a147b8fa2d0d4cda6c ;;
  *) echo "usage: $0 immich-v2.4.1|immich-v3.1.0|scws|zhparser DEST" >&2; exit 2 ;;
esac
[ -n "$dest" ] || { echo "usage: $0 NAME DEST" >&2; exit 2; }

if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
  echo "upstream_source: $dest is not empty" >&2; exit 2
fi
mkdir -p "$dest"
if [ -n "${AIO_UPSTREAM_ARCHIVES:-}" ] && [ -f "$AIO_UPSTREAM_ARCHIVES/$archive" ]; then
  tar -xzf "$AIO_UPSTREAM_ARCHIVES/$archive" -C "$dest" --strip-components=1
  echo "upstream_source: $name from $AIO_UPSTREAM_ARCHIVES/$archive" >&2
  exit 0
fi
# No archive: fetch exactly that commit (GitHub serves any reachable commit to a shallow fetch).
if git -C "$dest" init -q && git -C "$dest" fetch -q --depth 1 "$repo" "$ref" 2>/dev/null \
   && git -C "$dest" -c advice.detachedHead=false checkout -q FETCH_HEAD; then
  rm -rf "$dest/.git"
  echo "upstream_source: $name cloned from $repo at $ref" >&2
  exit 0
fi
rm -rf "$dest"
echo "upstream_source: no source for $name: $archive is not in AIO_UPSTREAM_ARCHIVES" \
     "(${AIO_UPSTREAM_ARCHIVES:-unset}) and $repo could not be fetched (no network?)" >&2
exit 3
