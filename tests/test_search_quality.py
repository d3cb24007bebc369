"""Search quality on photos as users take them (tests/support/hard_corpus.py): Traditional and Simplified, full-width,
numbers and codes, Japanese; read by the sidecar's real OCR, searched by aio and by Immich's own method."""

import psycopg
import pytest

from .support.aio_helpers import asset_id, search_aio
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available
from .support.hard_corpus import CATEGORIES, MUST_NOT_MATCH
from .support.imagegen import font_path
from .support.ocr_search_eval import character_recall, evaluate, read_photos, store_as_immich, table

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
    pytest.mark.skipif(font_path() is None, reason="CJK font missing: apt-get install fonts-wqy-zenhei"),
]


@pytest.fixture(scope="module")
def answers(app):
    return read_photos(app.test_client())


@pytest.fixture(scope="module")
def hard_db(new_database, answers):
    url = new_database("hard_set")
    with psycopg.connect(url, autocommit=True) as conn:
        store_as_immich(conn, answers)
    assert migrate(url, "upgrade") == 0  # a library that already has OCR: the back-fill builds the documents
    conn = psycopg.connect(url, autocommit=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def results(hard_db):
    results = evaluate(hard_db)
    print("\n" + table(results))
    return results


def test_ocr_reads_at_least_97_percent_of_the_characters(answers):
    recall, report = character_recall(answers)
    print("\n" + "\n".join(report) + f"\ncharacter recall {recall:.4f}")
    assert recall >= 0.97, "\n".join(report)


def test_overall_targets(results):
    overall = results["aio"]["overall"]
    assert overall["mrr"] >= 0.95 and overall["precision@10"] >= 0.93 and overall["recall@10"] >= 0.95, table(results)


@pytest.mark.parametrize("category", CATEGORIES)
def test_aio_at_least_as_good_as_immich_in_every_category(results, category):
    aio, immich = results["aio"][category], results["immich"][category]
    assert aio["mrr"] >= immich["mrr"] and aio["recall@10"] >= immich["recall@10"], table(results)


@pytest.mark.parametrize("query", sorted(MUST_NOT_MATCH))
def test_chinese_precision_is_kept(hard_db, query):
    found = set(search_aio(hard_db, query, 100))
    assert not found & {asset_id(name) for name in MUST_NOT_MATCH[query]}


def test_exact_form_ranks_above_the_normalised_one(hard_db):
    traditional = {asset_id("tw-library"), asset_id("tw-univ")}
    simplified = {asset_id("cn-library"), asset_id("cn-nanjing-univ")}
    assert search_aio(hard_db, "圖書館")[0] in traditional
    assert search_aio(hard_db, "图书馆")[0] in simplified


def test_word_match_ranks_above_a_code_substring(hard_db):
    # 8888 is an amount of the invoice (8,888.00) and only part of the plate 粤B·88888
    assert search_aio(hard_db, "8888")[:2] == [asset_id("cn-invoice"), asset_id("cn-plate-gd")]


def test_snippets_mark_the_original_text(hard_db):
    def snippet(query: str, name: str) -> str:
        return hard_db.execute(
            "SELECT aio.ocr_snippet(body, aio.ocr_query(%s)) FROM aio.ocr_document WHERE asset_id = %s",
            (query, asset_id(name)),
        ).fetchone()[0]

    assert "<b>圖書館</b>" in snippet("图书馆", "tw-library")
    assert "<b>图书馆</b>" in snippet("圖書館", "cn-library")
    assert "<b>XK9-77B</b>" in snippet("xk977b", "cn-product")
    marked = snippet("13812345678", "cn-express")
    assert "<b>138 1234 5678</b>" in marked, marked
