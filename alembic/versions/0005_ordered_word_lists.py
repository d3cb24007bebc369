"""Ordered word lists: the first page of an OCR search, read from the top of one word's list.

Revision ID: 0005_ordered_word_lists
Revises: 0004_normalised_search
Create Date: 2026-11-29

Until now aio.ocr_search ranked every matching document (ts_rank_cd over each one's tsvector) before
Immich could take its first page. At 100 000 photos that took 60-200 ms for a frequent word, and it
grows with the library. Now each document's Chinese words of two characters or more are also kept in
aio.ocr_word: one row per word and document, holding the word's rank in that document, in a btree
ordered by rank. A search reads one word's list from the top, through Immich's filters, and stops when
the page is full.

Which list (aio.key_word): a word that every match of the query contains, whichever alternative of the
query it matches; of those, the rarest (ANALYZE's element frequencies). A two-character word is also
listed where a document has it only as characters (a bigram), after the documents that have it as a
word, so the character safety net's matches are in the list too.
- One word (ocr:发票): that word's list. The order is exactly the old one: aio.ocr_rank of the word,
  exact forms first (x1.5).
- Several words (增值税发票, "上海南站"): the key word's list, each document checked against the whole
  query, ordered by the key word's rank in it. This is the change of ranking: cover density of the
  whole query ordered these before.
- Two characters that are no dictionary word (拿铁): only the characters in a row match now. zhparser
  splits such a run into single characters, and a document with 拿 and 铁 anywhere used to match too.
- Listed words joined by OR (发票 OR 收据): no word is in every match; the ranks of the words are summed
  from their lists (the old rank, up to float rounding: cover density of an OR of single words is the
  sum of theirs).
- Queries with no such word (codes, single characters, exclusions, the degraded mode): every match is
  ranked, as before.

Triggers on aio.ocr_document keep aio.ocr_word, so every path that changes a document keeps it too:
Immich's OCR job, the cascade from a deleted asset, a rebuild. A row is found again for deletion by
computing it again from the old document (the same function gives the same rank), so no index by asset
is needed.

The definitions are in alembic/sql/0005/, one file per object.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0005_ordered_word_lists"
down_revision = "0004_normalised_search"
branch_labels = None
depends_on = None


# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
# Installed by the upgrade, in this order; then the back-fill, then ocr_word_indexes.
OBJECTS = (
    "cjk_run_query",
    "ocr_word_rows",
    "ocr_word",
    "key_word",
    "search_plan_type",
    "search_plan",
    "ocr_document_matches",
    "ocr_search",
)


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    for name in OBJECTS:
        bind.exec_driver_sql(sql(f"0005/{name}.sql"))
    bind.exec_driver_sql(
        "INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank) SELECT r.word, d.asset_id, d.plain, "
        "r.is_word, r.rank FROM aio.ocr_document AS d, aio.ocr_word_rows(d.tsv, d.plain) AS r"
    )
    bind.exec_driver_sql(sql("0005/ocr_word_indexes.sql"))
    # The back-fill's commit waits for its WAL: VACUUM marks a page all-visible only once it can set the
    # rows' commit hint bits, which an asynchronous commit (synchronous_commit = off) defers.
    bind.exec_driver_sql("SET LOCAL synchronous_commit = on")
    with op.get_context().autocommit_block():
        # aio.key_word reads the documents' element frequencies; the lists need the visibility map
        bind.exec_driver_sql("ANALYZE aio.ocr_document")
        bind.exec_driver_sql("VACUUM (ANALYZE) aio.ocr_word")


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0004/ocr_search.sql"))
    bind.exec_driver_sql(sql("0001/cjk_run_query.sql"))
    bind.exec_driver_sql("""
DROP TABLE aio.ocr_word;
DROP TRIGGER aio_ocr_word_insert ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_delete ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_update ON aio.ocr_document;
DROP TRIGGER aio_ocr_word_truncate ON aio.ocr_document;
DROP FUNCTION aio.ocr_document_inserted(), aio.ocr_document_deleted(), aio.ocr_document_updated(),
  aio.ocr_document_truncated(), aio.search_plan(text), aio.ocr_document_matches(uuid, tsquery),
  aio.key_word(tsquery), aio.ocr_word_rows(tsvector, boolean);
DROP TYPE aio.search_plan;
""")
