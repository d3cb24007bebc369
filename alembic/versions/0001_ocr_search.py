"""aio OCR search: zhparser configuration, one OCR document per asset, query/rank/fusion functions.

Revision ID: 0001_ocr_search
Revises:
Create Date: 2026-11-25

Runs after Immich's own migrations and never alters Immich's tables or data: it only adds triggers
(owned by aio functions) to asset_ocr and a table that references asset(id) with ON DELETE CASCADE.

zhparser settings, and why:
- documents are parsed with zhparser.multi_short=on: a compound such as 华山医院 or 浦东国际机场 is
  indexed together with the dictionary words inside it (华山, 医院; 浦东, 国际, 机场), so a search for
  a part finds the whole;
- queries are parsed with multi_short=off, so one query word never becomes a set of expanded tokens
  that would all have to match;
- punctuation_ignore=on: punctuation carries nothing to search for.
Token mapping: every zhparser token type is indexed through the `simple` dictionary (lower-cased,
no stemming) except w (punctuation), u (auxiliaries such as 的/了, also stray '.') and y (modal
particles such as 吗/呢): they would match almost every document.

Documents also carry CJK unigrams and bigrams with weight D (a safety net for words the dictionary
does not know); dictionary words carry weight A, and queries only fall back to the bigram phrase for
words the dictionary does not know, so 海南 never matches 上海南站 through the bigram 海南.

The definitions are in alembic/sql/0001/, one file per object, each as this revision installs it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from alembic import context, op

revision = "0001_ocr_search"
down_revision = None
branch_labels = None
depends_on = None

INDEXED_TOKEN_TYPES = "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,v,x,z"
# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
# What the upgrade installs after the text search configuration, in this order.
OBJECTS = (
    "search_mode",
    "cjk_ngrams",
    "ocr_tsvector",
    "cjk_run_query",
    "term_query",
    "ocr_query",
    "ocr_rank",
    "ocr_snippet",
    "rrf",
    "ocr_document",
    "refresh_ocr_documents",
    "asset_ocr_triggers",
)


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def _requested_mode() -> str:
    """zhparser (default) or degraded, from `-x search_mode=...` or AIO_SEARCH_MODE."""
    value = (
        context.get_x_argument(as_dictionary=True).get("search_mode") or os.environ.get("AIO_SEARCH_MODE") or "zhparser"
    )
    value = value.strip().lower()
    if value not in {"zhparser", "degraded"}:
        raise RuntimeError(f"AIO_SEARCH_MODE must be zhparser or degraded, got {value!r}")
    return value


def _run(statements: str) -> None:
    # Raw DDL straight to the driver: SQLAlchemy's text() would read ':A' in tsquery literals as binds.
    op.get_bind().exec_driver_sql(statements)


def upgrade() -> None:
    bind = op.get_bind()
    missing = [
        t
        for t in ("asset", "asset_ocr")
        if bind.execute(text("SELECT to_regclass(:t)"), {"t": f"public.{t}"}).scalar() is None
    ]
    if missing:
        raise RuntimeError(
            f"Immich's tables {', '.join(missing)} are missing from this database: start Immich v2.4.1 once "
            "(it runs its own migrations), then run `immich-sidecar db upgrade` again"
        )

    mode = _requested_mode()
    created = False
    if mode == "zhparser":
        if not bind.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'zhparser'")).scalar():
            raise RuntimeError(
                "the PostgreSQL extension zhparser is not installed, so Chinese word search cannot be set up. "
                "Use the project's PostgreSQL image (Dockerfile.postgres), or build zhparser and SCWS into this "
                "server; or accept character-only search with AIO_SEARCH_MODE=degraded"
            )
        created = not bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'zhparser'")).scalar()
        op.execute("CREATE EXTENSION IF NOT EXISTS zhparser")

    op.execute("CREATE TABLE aio.install (key text PRIMARY KEY, value text NOT NULL)")
    op.execute(
        text("INSERT INTO aio.install VALUES ('mode', :mode), ('created_zhparser', :created)").bindparams(
            mode=mode, created=str(created).lower()
        )
    )

    if mode == "zhparser":
        op.execute("CREATE TEXT SEARCH CONFIGURATION aio.zh (PARSER = zhparser)")
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION aio.zh ADD MAPPING FOR {INDEXED_TOKEN_TYPES} WITH simple")
        if extra := os.environ.get("AIO_ZHPARSER_EXTRA_DICTS", "").strip():
            # User dictionaries (files in PostgreSQL's tsearch_data), for every new session of this database.
            op.execute(
                text(
                    f'ALTER DATABASE "{bind.execute(text("SELECT current_database()")).scalar()}" '
                    "SET zhparser.extra_dicts = :d"
                ).bindparams(d=extra)
            )
    else:
        # Degraded: no word segmentation. Chinese is found through the character n-grams alone.
        op.execute("CREATE TEXT SEARCH CONFIGURATION aio.zh (COPY = simple)")

    for name in OBJECTS:
        _run(sql(f"0001/{name}.sql"))

    # Back-fill: libraries that already have OCR get their documents now.
    op.execute('SELECT aio.refresh_ocr_documents(ARRAY(SELECT DISTINCT "assetId" FROM public.asset_ocr))')


def downgrade() -> None:
    bind = op.get_bind()
    created_zhparser = bind.execute(text("SELECT value FROM aio.install WHERE key = 'created_zhparser'")).scalar()
    _run("""
DROP TRIGGER IF EXISTS aio_ocr_document_insert ON public.asset_ocr;
DROP TRIGGER IF EXISTS aio_ocr_document_delete ON public.asset_ocr;
DROP TRIGGER IF EXISTS aio_ocr_document_update ON public.asset_ocr;
DROP TRIGGER IF EXISTS aio_ocr_document_truncate ON public.asset_ocr;
DROP FUNCTION aio.asset_ocr_inserted(), aio.asset_ocr_deleted(), aio.asset_ocr_updated(), aio.asset_ocr_truncated();
DROP FUNCTION aio.refresh_ocr_documents(uuid[]);
DROP TABLE aio.ocr_document;
DROP FUNCTION aio.rrf(uuid[], uuid[], real, real, integer);
DROP FUNCTION aio.ocr_snippet(text, tsquery), aio.ocr_rank(tsvector, tsquery), aio.ocr_query(text);
DROP FUNCTION aio.term_query(text, boolean), aio.cjk_run_query(text, boolean);
DROP FUNCTION aio.ocr_tsvector(text), aio.cjk_ngrams(text), aio.search_mode();
DROP TEXT SEARCH CONFIGURATION aio.zh;
DROP TABLE aio.install;
""")
    if os.environ.get("AIO_ZHPARSER_EXTRA_DICTS", "").strip():
        database = bind.execute(text("SELECT current_database()")).scalar()
        op.execute(f'ALTER DATABASE "{database}" RESET zhparser.extra_dicts')
    if created_zhparser == "true":
        op.execute("DROP EXTENSION IF EXISTS zhparser")  # only when this migration created it
