"""A first page at 1 000 000 photos: no parallel workers or JIT, an index for a code's rest, less work per query.

Revision ID: 0015_first_page_at_scale
Revises: 0014_nested_words
Create Date: 2026-12-07

Measured at 1 000 000 photos, two PostgreSQL features that the planner turns on by a plan's estimated cost
made pages slow; the reading itself was fast. A search reads the top of its word lists, a page at a time,
but is costed as if it read them whole, and at that size the estimate passes both thresholds:
- parallel workers: a one-word first page took 35 ms, of which 33 ms were starting two workers (Gather Merge);
  read serially, 2 ms. The lists' table is now never read in parallel (parallel_workers = 0); the documents
  still may be, where a count reads every match. The lists' words get statistics of 1000 words (the default
  100 let a list of hundreds of photos be estimated at 30, and then read whole and sorted);
- JIT: 20 words joined by OR were compiled by LLVM for 460 ms and then run in 26 ms. JIT is turned off for the
  database, unless it already has its own JIT setting (alembic/sql/0015/database_jit.sql says why and how).
And one plan was wrong for its estimate: a code's first page took 1.1 s, all of it in aio.search_plan finding
the rest of the split query (the photos that match without the code itself) by reading every document; it now
always asks the documents' index, 30 ms. Two steps did work twice or more:
- the photos holding a run together (0012) were each checked twice while the page was read; aio.together_top
  now checks them once, while planning, and aio.ocr_search only asks whether a photo is among them (a page of
  several words, 10 ms, had 5 ms of such checks);
- aio.ocr_query parsed a term typed again (a pasted text that repeats itself) each time: now once, where the
  query has no OR (A A is A).
The same photos, in the same order (only a query that repeats a term and ranks every match, having no key
word, ranks each term once). The definitions are in alembic/sql/0015/.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0015_first_page_at_scale"
down_revision = "0014_nested_words"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0015/ocr_word_storage.sql"))
    bind.exec_driver_sql("ANALYZE aio.ocr_word")  # the finer statistics now, not at autovacuum's next visit
    bind.exec_driver_sql(sql("0015/database_jit.sql"))
    if bind.exec_driver_sql("SELECT 1 FROM aio.install WHERE key = 'database_jit_off'").scalar():
        print(
            "aio: JIT is now off for this database; connections opened before this upgrade keep it until they "
            "reconnect: restart immich-server once",
            flush=True,
        )
    bind.exec_driver_sql(sql("0015/search_plan.sql"))
    bind.exec_driver_sql(sql("0015/ocr_query.sql"))
    bind.exec_driver_sql(sql("0015/together_top.sql"))
    bind.exec_driver_sql(sql("0015/ocr_search.sql"))


def downgrade() -> None:
    bind = op.get_bind()
    # 0012's together_top and 0001's ocr_query are written as CREATE FUNCTION: each is dropped first
    bind.exec_driver_sql("DROP FUNCTION aio.together_top(text)")
    bind.exec_driver_sql(sql("0012/together_top.sql"))
    bind.exec_driver_sql(sql("0012/ocr_search.sql"))
    bind.exec_driver_sql("DROP FUNCTION aio.ocr_query(text)")
    bind.exec_driver_sql(sql("0001/ocr_query.sql"))
    bind.exec_driver_sql("ALTER FUNCTION aio.ocr_query(text) PARALLEL RESTRICTED")  # as 0004 left it
    bind.exec_driver_sql(sql("0012/search_plan.sql"))
    bind.exec_driver_sql("ALTER TABLE aio.ocr_word RESET (parallel_workers)")  # 0005's settings
    bind.exec_driver_sql("ALTER TABLE aio.ocr_word ALTER COLUMN word SET STATISTICS -1")
    # only the setting aio made: a database whose owner set JIT keeps it
    bind.exec_driver_sql(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM aio.install WHERE key = 'database_jit_off') THEN "
        "EXECUTE 'ALTER DATABASE ' || quote_ident(current_database()) || ' RESET jit'; "
        "DELETE FROM aio.install WHERE key = 'database_jit_off'; END IF; END $$"
    )
