"""Why a photo matched, as data: the matched lines and boxes with the ranges of characters that matched.

Revision ID: 0008_match_ranges
Revises: 0007_or_by_best_word
Create Date: 2026-12-06

A defect first: aio.ocr_snippet (0004) put the OCR text out as it is, with <b></b> added, so OCR text that reads
like markup (`<img src=x onerror=...>` on a poster) came back as markup, and a client rendering the documented
"matches in <b></b>" as HTML ran it. OCR text is untrusted input. The snippet now escapes every character of the
text (& < > " ') before marking; the marks are the same.

Clients get the matches as data instead, computed here with the search's own parsing and normalisation (never
re-implemented by a client):
- aio.match_pattern(tsquery): the words of a query as one pattern over normalised text (0004's snippet pattern,
  taken out: excluded words and code trigrams mark nothing, a code marks its place separators and all).
- aio.match_ranges(line, pattern, plain): where a line matches, [[start, end], ...] in characters of the line as
  the photo has it (aio.normalize keeps every character in place: 圖書館 is marked where 图书馆 matched); a line
  of a plain document (aio.ocr_document.plain) is matched in its lower case, without the normalisation's
  look-ups.
- aio.ocr_line_matches(body, pattern, max_lines, plain): the first matching lines of a document, each (line,
  text, ranges).
- aio.ocr_matches(ids, query, max_lines): those lines for a page of search results, photos whose document
  matches the query only; the page's documents are read by id and then tested, never through the text index
  (a frequent word's matches are a large part of the library): a page of 100 costs 2.7 ms p50, 4.4 ms p95 at
  100 000 photos, about the same as at 20 000 (scripts/bench_ocr_search.py).
- aio.ocr_box_matches(asset, query): which of a photo's OCR boxes (asset_ocr ids) matched, with their ranges;
  hidden boxes (Immich v3's "isVisible" false) never match.
- aio.marked_html(line, ranges): the escaped HTML form of a line, for aio.ocr_snippet.

The definitions are in alembic/sql/0008/, one file per object. `downgrade` restores 0004's aio.ocr_snippet and
drops the new functions. Nothing is rebuilt either way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0008_match_ranges"
down_revision = "0007_or_by_best_word"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
# In the order they are installed (each after those it calls).
FUNCTIONS = (
    "match_pattern",
    "match_ranges",
    "ocr_line_matches",
    "marked_html",
    "ocr_snippet",
    "ocr_matches",
    "ocr_box_matches",
)
NEW_FUNCTIONS = (
    "aio.ocr_box_matches(uuid, text)",
    "aio.ocr_matches(uuid[], text, integer)",
    "aio.marked_html(text, jsonb)",
    "aio.ocr_line_matches(text, text, integer, boolean)",
    "aio.match_ranges(text, text, boolean)",
    "aio.match_pattern(tsquery)",
)


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    for name in FUNCTIONS:
        bind.exec_driver_sql(sql(f"0008/{name}.sql"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0004/ocr_snippet.sql"))
    bind.exec_driver_sql("DROP FUNCTION " + ", ".join(NEW_FUNCTIONS))
