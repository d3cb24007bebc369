#!/usr/bin/env bash
# pgvector for Debian bookworm's PostgreSQL 15: bookworm ships no binary, so build Debian's own source
# package (trixie's 0.8.0, inside Immich's accepted range >=0.5 <1) against postgresql-server-dev-15.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
if [ -f "$($PG_CONFIG --sharedir)/extension/vector.control" ]; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
echo 'deb-src http://deb.debian.org/debian trixie main' > "$work/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$work/lists")
apt-get "${apt_options[@]}" update -q >/dev/null
(cd "$work" && apt-get "${apt_options[@]}" source --download-only pgvector >/dev/null 2>&1)
tar -xzf "$work"/pgvector_*.orig.tar.gz -C "$work"
make -C "$work"/pgvector-*/ -s PG_CONFIG="$PG_CONFIG" >/dev/null
as_root make -C "$work"/pgvector-*/ -s install PG_CONFIG="$PG_CONFIG" >/dev/null
echo "install_pgvector: installed $(basename "$work"/pgvector-*)"
