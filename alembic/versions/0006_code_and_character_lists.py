"""Codes, Latin words and single characters in the word lists: those queries read a list too.

Revision ID: 0006_code_and_character_lists
Revises: 0005_ordered_word_lists
Create Date: 2026-11-29

In 0005 codes and single characters still ranked every match. A code query (SF1234567890, Immich2024) has
three alternatives (its letters and digits as words, the code whole, the code inside a longer code), and no
word is in all three; characters were not listed. At 100 000 photos a code found on 5 % of them took 75-85 ms
and a character found on 57 % of them 150 ms, where a word took 2 ms.

Now the lists also hold every single Chinese character (ranked as a one-character query ranks it, ':AD'),
and every lexeme of four letters and digits or more (codes whole, words such as hotel; ranked as a query of
that lexeme alone ranks it).
- A character or a Latin word that every match contains is a key word like a Chinese word (票: its own list,
  in exactly the old order; century park: the rarer word).
- A query with no key word is split on one listed word W of it such that every document containing W matches
  (aio.split_word): for a code, the code whole. The matches containing W are read from W's list, ordered by
  W's rank; the other matches (the query and not W: the GIN index leaves out the documents with W without
  reading them) are ranked by the whole query; both are merged by rank. So a code's photos are ordered by the
  code's own rank, as one word's photos are by the word's, and photos that have its letters and digits apart,
  or the code inside a longer code, take their place by the whole query's rank. The other matches are found
  while planning (aio.search_plan): past SPLIT_REST_LIMIT of them, every match is ranked as before.
- Cost: the characters about double the lists' rows (at 100 000 documents, 7.1 million rows and 847 MB with
  their indexes instead of 3.2 million and 387 MB); codes and Latin words add a tenth.

The definitions are in alembic/sql/0006/, one file per object (the type aio.search_plan gains rest and
rest_assets here, by ALTER TYPE).
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0006_code_and_character_lists"
down_revision = "0005_ordered_word_lists"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
# The words added to the lists (back-filled here, removed by the downgrade): single Chinese characters, and Latin
# words and codes of four letters and digits or more (a trigram, three, is never a whole code).
ADDED_WORDS = "(^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]$)|(^[0-9a-z]{4,}$)"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("ALTER TYPE aio.search_plan ADD ATTRIBUTE rest tsquery, ADD ATTRIBUTE rest_assets uuid[]")
    for name in ("key_word", "search_plan", "ocr_word_rows", "split_word", "ocr_search"):
        bind.exec_driver_sql(sql(f"0006/{name}.sql"))
    bind.exec_driver_sql(
        "INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank) SELECT r.word, d.asset_id, d.plain, "
        f"r.is_word, r.rank FROM aio.ocr_document AS d, aio.ocr_word_rows(d.tsv, d.plain) AS r "
        f"WHERE r.word ~ '{ADDED_WORDS}'"
    )
    # The back-fill's commit waits for its WAL: VACUUM marks a page all-visible only once it can set the
    # rows' commit hint bits, which an asynchronous commit (synchronous_commit = off) defers.
    bind.exec_driver_sql("SET LOCAL synchronous_commit = on")
    with op.get_context().autocommit_block():
        bind.exec_driver_sql("VACUUM (ANALYZE) aio.ocr_word")  # the new rows all-visible: lists read from the index


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(f"DELETE FROM aio.ocr_word WHERE word ~ '{ADDED_WORDS}'")
    for name in ("ocr_search", "search_plan", "key_word", "ocr_word_rows"):
        bind.exec_driver_sql(sql(f"0005/{name}.sql"))
    bind.exec_driver_sql("DROP FUNCTION aio.split_word(tsquery)")
    bind.exec_driver_sql("ALTER TYPE aio.search_plan DROP ATTRIBUTE rest, DROP ATTRIBUTE rest_assets")
