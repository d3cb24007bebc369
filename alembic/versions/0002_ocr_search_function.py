"""aio.ocr_search(q): the OCR matches of a user query with their rank, the one thing Immich joins.

Revision ID: 0002_ocr_search_function
Revises: 0001_ocr_search
Create Date: 2026-11-25

The Immich patch joins `aio.ocr_search(query)` to its asset query and orders by `rank`, so query
parsing, matching and ranking stay here, testable in SQL, and the TypeScript side stays one join.
Its definition: alembic/sql/0002/ocr_search.sql. The current one is the newest alembic/sql/*/ocr_search.sql
(0007), and alembic/schema.sql shows the whole schema at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0002_ocr_search_function"
down_revision = "0001_ocr_search"
branch_labels = None
depends_on = None


# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    op.get_bind().exec_driver_sql(sql("0002/ocr_search.sql"))


def downgrade() -> None:
    op.get_bind().exec_driver_sql("DROP FUNCTION aio.ocr_search(text)")
