"""Word lists that never drift: a photo's rows removed by its asset, checked and repaired, and checked again by
itself when the database was moved to another build.

Revision ID: 0009_no_drift
Revises: 0008_match_ranges
Create Date: 2026-12-06

Until now a photo's rows of aio.ocr_word were deleted by computing them again from its old document and
matching each by its float rank (0005). Restored into another PostgreSQL build, a rank computed again need not
be the same float: the row stayed, and the photo kept matching a word it no longer held. Now:
- the trigger functions remove a photo's rows by its asset, and a new document first removes rows its photo still
  has: one row per photo and word. They find them by the index aio.ocr_word_of_asset (the photo alone as the
  key, one entry per photo after PostgreSQL's B-tree deduplication), which also serves aio.or_matches' check by
  photo in place of 0007's ocr_word_by_asset (dropped: the check reads the photo's rows from the table, about
  10 us where 0007's index-only read took 5, a few dozen times a first page);
- aio.check_ocr() reports where the documents and lists disagree with Immich's asset_ocr (missing, stale,
  duplicate, differing), aio.repair_ocr(ids) rebuilds those photos; `immich-sidecar db check [--repair]` runs them;
- aio.ocr_build records which build made the index (aio.ocr_build_fingerprint()); `immich-sidecar db upgrade`
  checks and repairs every photo where it is not this build's, or none is recorded yet (the first `db upgrade`
  after this revision: drift from before is found then).

The definitions are in alembic/sql/0009/. `downgrade`
drops what 0009 added and makes the lists again as 0005 to 0008 made them (0005's table, trigger functions and
indexes, 0007's index), filled from the documents.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0009_no_drift"
down_revision = "0008_match_ranges"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("DROP INDEX aio.ocr_word_by_asset")  # 0007's: the new index serves its check too
    for name in ("ocr_word_of_asset", "ocr_word_triggers", "check_ocr", "ocr_build"):
        bind.exec_driver_sql(sql(f"0009/{name}.sql"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("DROP TABLE aio.ocr_build")
    bind.exec_driver_sql("DROP FUNCTION aio.ocr_build_fingerprint(), aio.check_ocr(), aio.repair_ocr(uuid[])")
    # The lists as 0005 to 0008 made them, from the documents: the table, its trigger functions, indexes and
    # triggers from 0005's files whole (0005/ocr_word.sql defines the table and the functions together), filled
    # as 0005's upgrade fills it, and 0007's index (0009's index goes with the table).
    bind.exec_driver_sql("""
DROP TRIGGER aio_ocr_word_insert ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_delete ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_update ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_truncate ON aio.ocr_document;
DROP TABLE aio.ocr_word;
DROP FUNCTION aio.ocr_document_inserted(), aio.ocr_document_deleted(), aio.ocr_document_updated(),
  aio.ocr_document_truncated();
""")
    bind.exec_driver_sql(sql("0005/ocr_word.sql"))
    bind.exec_driver_sql(
        "INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank) SELECT r.word, d.asset_id, d.plain, "
        "r.is_word, r.rank FROM aio.ocr_document AS d, aio.ocr_word_rows(d.tsv, d.plain) AS r"
    )
    bind.exec_driver_sql(sql("0005/ocr_word_indexes.sql"))
    bind.exec_driver_sql(sql("0007/ocr_word_by_asset.sql"))
    bind.exec_driver_sql("SET LOCAL synchronous_commit = on")  # as 0006's upgrade: VACUUM can mark pages all-visible
    with op.get_context().autocommit_block():
        bind.exec_driver_sql("VACUUM (ANALYZE) aio.ocr_word")
