"""Nested words: every dictionary word inside a compound, at any depth, is found.

Revision ID: 0014_nested_words
Revises: 0013_halfwidth_kana
Create Date: 2026-12-06

The dictionary holds many names whole (上海野生动物园, institutions, parks, streets). Documents are parsed with
zhparser's short-word emission, which gives the words one level inside (上海 野生 动物园), not the words inside
those (动物, in 动物园): 动物 did not find 上海野生动物园, where Immich's bigrams do. Now aio.ocr_tsvector parses
each word of three characters or more again, alone, and adds the words it holds that the document does not have
yet, at the place of the word that holds them, down to four levels. A word across two words is still no word of
the document (上海南站 is 上海 南站: 海南 does not find it). The words a document had keep their places; its ranks
move a little where words are added, as for any longer text (the rank is divided by the text's length).

Every document may change: this revision forgets which build made the index (aio.ocr_build), so the
`immich-sidecar db upgrade` that applies it checks every photo and rebuilds those that differ, in committed
batches (0009). Its downgrade rebuilds those that differ from 0004's form itself, in its transaction (no check
follows a downgrade below 0009). The definition is in alembic/sql/0014/.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0014_nested_words"
down_revision = "0013_halfwidth_kana"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0014/ocr_tsvector.sql"))
    bind.exec_driver_sql("DELETE FROM aio.ocr_build")  # the documents are checked against the new form


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0004/ocr_tsvector.sql"))
    # back to 0004's form here, in one transaction: below 0009 no check follows `db downgrade`
    bind.exec_driver_sql("SELECT aio.repair_ocr(array(SELECT DISTINCT c.asset_id FROM aio.check_ocr() AS c))")
