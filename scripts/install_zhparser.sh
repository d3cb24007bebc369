#!/usr/bin/env bash
# zhparser (Chinese word segmentation for PostgreSQL full-text search) and its SCWS library, built from
# their pinned upstream sources (scripts/upstream_source.sh) against the PostgreSQL of PG_CONFIG, with
# a dictionary generated from SCWS's own word lists. The one recipe: the test setup and
# Dockerfile.postgres both run it. Idempotent: a second run only checks the stamp (well under a second).
#
# Exit codes: 0 installed or up to date, 3 no source (scripts/upstream_source.sh), others failures.
# Needs: a C toolchain, autoconf, automake, libtool, the PostgreSQL server headers, iconv and awk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

PG_CONFIG=${PG_CONFIG:-$(command -v pg_config 2>/dev/null || true)}
[ -x "${PG_CONFIG:-}" ] || PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
[ -x "$PG_CONFIG" ] || { echo "install_zhparser: no pg_config (install postgresql-server-dev-15 or set PG_CONFIG)" >&2; exit 2; }
SCWS_PREFIX=${SCWS_PREFIX:-/usr/local}

sharedir=$("$PG_CONFIG" --sharedir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)
# The stamp names what was built: this recipe and the pinned refs (both inside these two scripts).
wanted=$(cat "$0" "$root/scripts/upstream_source.sh" | sha256sum | cut -d' ' -f1)
stamp=$sharedir/extension/zhparser.aio-build
if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] && [ -f "$pkglibdir/zhparser.so" ] \
   && [ -f "$sharedir/tsearch_data/dict.utf8.xdb" ] && [ -f "$sharedir/extension/zhparser.control" ]; then
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/scripts/upstream_source.sh" scws "$work/scws"
"$root/scripts/upstream_source.sh" zhparser "$work/zhparser"

echo "install_zhparser: building SCWS into $SCWS_PREFIX" >&2
(
  cd "$work/scws"
  # A git snapshot: generate the build system as SCWS's own acprep does.
  aclocal && autoheader && libtoolize --copy --force && automake --add-missing --copy --force && autoconf
  ./configure -q --prefix="$SCWS_PREFIX"
  make -s -j"$(nproc)"
  as_root make -s install
) >"$work/scws.log" 2>&1 || { tail -40 "$work/scws.log" >&2; exit 1; }
command -v ldconfig >/dev/null && as_root ldconfig

# The dictionary, computed as SCWS's dev/dict/calc_text.php does (on the GBK lists, so word lengths are
# GBK bytes, as there), then converted to UTF-8 (GB18030, the superset of GBK: 81 entries use its extensions) and compiled by scws-gen-dict.
echo "install_zhparser: generating the dictionary from SCWS's word lists" >&2
dict=$work/scws/dev/dict
LC_ALL=C awk -F'\t' '
  FILENAME ~ /w\.txt$/ {
    freq = $2 + 0; attr = $3
    if (freq < 1000) freq = 21000 - freq * 18
    tf = log(log(freq) ^ 5 * log(length($1))); idf = log(5000000000 / freq)
    if (length(attr) == 2 && substr(attr, 1, 1) == "n" && tf > 13) idf *= 1.6
    printf "%s\t%.2f\t%.2f\t%s\n", $1, tf, idf, attr; next
  }
  {
    freq = $2 + 0
    if (freq < 1) freq = 1  # 40 characters have frequency 0: log(0) would be -inf, tf 0 instead
    printf "%s\t%.2f\t%.2f\t%s\n", $1, log(freq) * log(2) / 10, 0, $3
  }' "$dict/w.txt" "$dict/z.txt" | iconv -f GB18030 -t UTF-8 >"$work/dict.utf8.txt"
"$SCWS_PREFIX/bin/scws-gen-dict" -c utf8 -i "$work/dict.utf8.txt" -o "$work/zhparser/dict.utf8.xdb" >/dev/null

echo "install_zhparser: building zhparser against $("$PG_CONFIG" --version)" >&2
(
  cd "$work/zhparser"
  make -s PG_CONFIG="$PG_CONFIG" SCWS_HOME="$SCWS_PREFIX"
  as_root make -s install PG_CONFIG="$PG_CONFIG" SCWS_HOME="$SCWS_PREFIX"
) >"$work/zhparser.log" 2>&1 || { tail -40 "$work/zhparser.log" >&2; exit 1; }
echo "$wanted" | as_root tee "$stamp" >/dev/null
echo "install_zhparser: installed zhparser and SCWS ($(wc -c <"$sharedir/tsearch_data/dict.utf8.xdb") byte dictionary)" >&2
