"""Half-width katakana: searched as the full-width katakana they stand for.

Revision ID: 0013_halfwidth_kana
Revises: 0012_typed_order_first
Create Date: 2026-12-06

Japanese receipts and tickets print katakana half-width (ｶﾞｿﾘﾝ), and OCR reads them so; a query is typed
full-width (ガソリン). Unicode's compatibility form (NFKC) folds them, but it joins a voiced mark to its kana
(ｶﾞ, two characters, becomes ガ, one), and the searchable form keeps every character in place (aio.normalize
maps one character to one: the match ranges of 0008 rest on it). So:
- aio.char_map folds each half-width katakana to its full-width form (halfwidth_kana(): NFKC of each, one
  character for one), and on to what that folds to (a small kana to its full-size one, 0011); the half-width
  voiced marks ﾞ ﾟ to the full-width spacing marks ゛ ゜: ｶﾞｿﾘﾝ's searchable form is カ゛ソリン;
- aio.char_variant gives each voiced katakana its spelling with a spacing mark (voiced_spellings(): ガ and
  カ゛, both ways, from Unicode's canonical decomposition), so that a query looks for both: ガソリン finds
  カ゛ソリン, and ｶﾞｿﾘﾝ typed finds ガソリン.
Documents holding half-width katakana change form: this revision rebuilds those (their text read once), and its
downgrade rebuilds them back.

And the marks (0008) of a run that the query reads as character pairs in a row (kana, and Chinese that is no
dictionary word) cover the whole run: aio.match_pattern adds the run itself beside its pairs, which alone matched
side by side and left the last character of a run of odd length (カ゛ソリン, うどん) unmarked. The definition is
in alembic/sql/0013/.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from alembic import op

revision = "0013_halfwidth_kana"
down_revision = "0012_typed_order_first"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
HALFWIDTH_KANA = range(0xFF61, 0xFFA0)  # Halfwidth and Fullwidth Forms: the half-width CJK punctuation and katakana
KATAKANA = range(0x30A1, 0x30FB)
# NFKC gives the combining voiced marks for ﾞ ﾟ alone; their spacing forms keep a character in place.
SPACING_MARK = {"\u3099": "\u309b", "\u309a": "\u309c"}
REBUILD = "SELECT aio.repair_ocr(array(SELECT d.asset_id FROM aio.ocr_document AS d WHERE d.body ~ '[\uff61-\uff9f]'))"


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def halfwidth_kana() -> dict[str, str]:
    """Each half-width katakana (and CJK punctuation mark) to the one full-width character it stands for."""
    folded = {}
    for code in HALFWIDTH_KANA:
        full = unicodedata.normalize("NFKC", chr(code))
        folded[chr(code)] = SPACING_MARK.get(full, full)
    return folded


def voiced_spellings() -> list[tuple[str, str]]:
    """aio.char_variant's rows: each voiced katakana and its kana followed by a spacing voiced mark, both ways."""
    pairs = []
    for code in KATAKANA:
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) == 2 and decomposed[1] in SPACING_MARK:
            spelled = decomposed[0] + SPACING_MARK[decomposed[1]]
            pairs += [(chr(code), spelled), (spelled, chr(code))]
    return sorted(pairs)


def upgrade() -> None:
    bind = op.get_bind()
    cursor = bind.connection.cursor()
    # to what the full-width form folds to in turn, where it does (ｮ: ョ, a small kana, folds to ヨ since 0011)
    bind.exec_driver_sql(
        "INSERT INTO aio.char_map SELECT h.src, coalesce(m.dst, h.dst) "
        "FROM unnest(%(src)s::text[], %(dst)s::text[]) AS h(src, dst) LEFT JOIN aio.char_map AS m ON m.src = h.dst",
        {"src": list(halfwidth_kana()), "dst": list(halfwidth_kana().values())},
    )
    cursor.executemany("INSERT INTO aio.char_variant VALUES (%s, %s)", voiced_spellings())
    bind.exec_driver_sql(REBUILD)
    bind.exec_driver_sql(sql("0013/match_pattern.sql"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("DROP FUNCTION aio.match_pattern(tsquery)")  # 0008's file creates it
    bind.exec_driver_sql(sql("0008/match_pattern.sql"))
    bind.exec_driver_sql(
        "DELETE FROM aio.char_variant WHERE (src, alt) IN (SELECT * FROM unnest(%(src)s::text[], %(alt)s::text[]))",
        {"src": [p[0] for p in voiced_spellings()], "alt": [p[1] for p in voiced_spellings()]},
    )
    bind.exec_driver_sql("DELETE FROM aio.char_map WHERE src = ANY (%(kana)s)", {"kana": sorted(halfwidth_kana())})
    bind.exec_driver_sql(REBUILD)
