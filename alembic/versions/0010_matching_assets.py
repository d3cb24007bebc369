"""The photos that match a query, unranked, for counts and filters.

Revision ID: 0010_matching_assets
Revises: 0009_no_drift
Create Date: 2026-12-06

A count, or an OCR filter under another order (smart search with an OCR field, Immich v3's filter model), needs
the set of matching photos and no order. Through aio.ocr_search it read every match of the query's lists, and an
OR of listed words checked each row by photo (0007): 1.4 s for 20 common words at 100 000 photos (4.2 s since
0009 finds a photo's other words in the table), where one match of the documents' text index takes 0.12 s.
aio.ocr_matching_assets(q) is that match: the same set, unranked (reading the OR's lists instead, each row once,
took 0.17 s: a common word's list is larger than its share of the documents' table).
The patched Immich v3.1.0 calls it wherever it needs no rank. `downgrade` drops it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0010_matching_assets"
down_revision = "0009_no_drift"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def upgrade() -> None:
    op.get_bind().exec_driver_sql((SQL / "0010" / "ocr_matching_assets.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.get_bind().exec_driver_sql("DROP FUNCTION aio.ocr_matching_assets(text)")
