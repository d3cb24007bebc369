"""aio.ocr_search(q): the OCR matches of a user query with their rank, the one thing Immich joins.

Revision ID: 0002_ocr_search_function
Revises: 0001_ocr_search
Create Date: 2026-11-25

The Immich patch joins `aio.ocr_search(query)` to its asset query and orders by `rank`, so query
parsing, matching and ranking stay here, testable in SQL, and the TypeScript side stays one join.
"""

from __future__ import annotations

from alembic import op

revision = "0002_ocr_search_function"
down_revision = "0001_ocr_search"
branch_labels = None
depends_on = None


# Also restored from here by the downgrade of the revision that replaces it.
OCR_SEARCH_SQL = """
CREATE OR REPLACE FUNCTION aio.ocr_search(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 100
AS $$
  SELECT d.asset_id, aio.ocr_rank(d.tsv, query)
  FROM aio.ocr_query(q) AS query, aio.ocr_document AS d
  WHERE numnode(query) > 0 AND d.tsv @@ query
$$;
COMMENT ON FUNCTION aio.ocr_search(text) IS
  'OCR documents matching a user query (any input: words, "phrases", OR, -exclusions), with aio.ocr_rank';
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(OCR_SEARCH_SQL)


def downgrade() -> None:
    op.get_bind().exec_driver_sql("DROP FUNCTION aio.ocr_search(text)")
