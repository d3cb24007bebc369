"""aio.ocr_snippet: the matching lines of the OCR text, matches marked, instead of ts_headline.

Revision ID: 0003_ocr_snippet_lines
Revises: 0002_ocr_search_function
Create Date: 2026-11-25

ts_headline rebuilds text from parser tokens: with zhparser's short-word emission it repeats
compounds (复旦大学复旦大学附属华山医院华山医院), drops spaces between Latin words and misplaces
phrase highlights. An OCR document is already lines of box text, so the snippet is simply the first
lines that contain a searched word, with each occurrence wrapped in <b>...</b>; excluded words
(-word) are never marked. Text comes back as OCR read it. Definition: alembic/sql/0003/ocr_snippet.sql.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0003_ocr_snippet_lines"
down_revision = "0002_ocr_search_function"
branch_labels = None
depends_on = None


# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    op.get_bind().exec_driver_sql(sql("0003/ocr_snippet.sql"))


def downgrade() -> None:
    op.get_bind().exec_driver_sql(sql("0001/ocr_snippet.sql"))
