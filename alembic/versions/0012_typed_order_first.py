"""Several words typed together: the photos that hold them together as typed come first.

Revision ID: 0012_typed_order_first
Revises: 0011_spellings
Create Date: 2026-12-06

Since the word lists (0005), a query of several words is read from its key word's list and ordered by the key
word's rank alone: a short photo reading 账单 … 支付宝 could rank above the photo reading 支付宝账单. Now a
photo that holds a run typed as several words together, in the typed order, ranks above every photo that holds
them apart; within each group the order is as before.
- aio.search_plan gains `together` (the query, with the run held together: its character pairs in order, which
  aio.ocr_query already puts beside its words) and `together_word` (the rarest of those pairs). A query of one
  word, an OR of terms, and a query of several runs typed apart hold nothing together.
- aio.ocr_search reads the together matches first, from the top 200 rows of the list of together_word (a pair
  across the words' joint, such as 宝账, is rare: its list is about the together matches; aio.together_top), each
  checked against `together` and ranked by that pair's rank (how much of the photo is the run as typed), 1000
  above the others; then the key word's list as before, without those. The bound: a rank raised by 1000 is
  not the index's order, so PostgreSQL sorts that part, and a sort reads all of it (90 ms for a pair in 6 000
  of 100 000 photos, unbounded). A together photo beyond the 200 keeps its place among the others.
The matches are the same photos; only their order changes. The definitions are in alembic/sql/0012/.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0012_typed_order_first"
down_revision = "0011_spellings"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("ALTER TYPE aio.search_plan ADD ATTRIBUTE together tsquery, ADD ATTRIBUTE together_word text")
    bind.exec_driver_sql(sql("0012/search_plan.sql"))
    bind.exec_driver_sql(sql("0012/together_top.sql"))
    bind.exec_driver_sql(sql("0012/ocr_search.sql"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0007/ocr_search.sql"))
    bind.exec_driver_sql(sql("0007/search_plan.sql"))
    bind.exec_driver_sql("DROP FUNCTION aio.together_top(text)")
    bind.exec_driver_sql("ALTER TYPE aio.search_plan DROP ATTRIBUTE together, DROP ATTRIBUTE together_word")
