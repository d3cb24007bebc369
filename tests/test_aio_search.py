"""Search quality of the aio schema with zhparser, against Immich v2.4.1's own method on the same data."""

import random
import string

import psycopg
import pytest

from .support.aio_helpers import asset_id, evaluate, insert_ocr, search_aio, search_immich
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available
from .support.search_corpus import DOCUMENTS, MUST_NOT_MATCH, QUERIES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]


@pytest.fixture(scope="module")
def corpus_db(new_database):
    url = new_database("search_quality")
    assert migrate(url, "upgrade") == 0
    with psycopg.connect(url, autocommit=True) as conn:
        for name, lines in DOCUMENTS.items():
            insert_ocr(conn, name, lines)
    conn = psycopg.connect(url, autocommit=True)
    yield conn
    conn.close()


def names(ids):
    by_id = {asset_id(name): name for name in DOCUMENTS}
    return [by_id[i] for i in ids]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("发票", "invoice-vat"),
        ("医院", "hospital-huashan"),
        ("华山医院", "hospital-huashan"),
        ("公园", "park-century"),
        ("世纪公园", "park-century"),
        ("SF1234567890", "express"),
        ("immich2024", "wifi-card"),
        ("宫保鸡丁", "menu-sichuan"),
    ],
)
def test_words_are_found(corpus_db, query, expected):
    assert expected in names(search_aio(corpus_db, query))


def test_words_inside_compounds_are_found(corpus_db):
    assert "hospital-huashan" in names(search_aio(corpus_db, "医院"))  # 华山医院
    assert "park-century" in names(search_aio(corpus_db, "公园"))  # 世纪公园
    assert {"airport-bus", "airport-sign"} <= set(names(search_aio(corpus_db, "机场")))  # 浦东国际机场


@pytest.mark.parametrize("query", sorted(MUST_NOT_MATCH))
def test_bigram_coincidences_are_rejected(corpus_db, query):
    found = set(names(search_aio(corpus_db, query)))
    assert not found & set(MUST_NOT_MATCH[query]), found


def test_immich_falls_for_the_coincidence_aio_rejects(corpus_db):
    # The reason this project exists: Immich's bigrams find 上海南站 for 海南.
    assert "station-shanghai-south" in names(search_immich(corpus_db, "海南"))


def test_phrase_and_exclusion(corpus_db):
    assert names(search_aio(corpus_db, '"上海南站"')) == ["station-shanghai-south"]
    assert "station-hongqiao" not in names(search_aio(corpus_db, '"南站"'))
    with_taxi = set(names(search_aio(corpus_db, "发票")))
    without = set(names(search_aio(corpus_db, "发票 -出租")))
    assert with_taxi - without == {"invoice-taxi"}
    assert set(names(search_aio(corpus_db, "咖啡 OR 火锅"))) == {"coffee-menu", "receipt-coffee", "menu-hotpot"}
    assert names(search_aio(corpus_db, "拿铁 谢谢")) == ["receipt-coffee"]


def test_best_document_ranks_first(corpus_db):
    assert names(search_aio(corpus_db, "发票"))[0] in {"invoice-vat", "invoice-hotel"}
    assert names(search_aio(corpus_db, "浦东国际机场"))[0] == "airport-sign"
    assert names(search_aio(corpus_db, "咖啡"))[0] == "coffee-menu"


def test_unknown_words_use_the_character_safety_net(corpus_db):
    # 多肉葡萄 and 芝芝莓莓 are shop coinages no dictionary has.
    assert names(search_aio(corpus_db, "芝芝莓莓")) == ["tea-shop"]
    assert names(search_aio(corpus_db, "肉葡")) == ["tea-shop"]


def test_aio_is_at_least_as_good_as_immich_on_every_measure(corpus_db):
    aio = evaluate(search_aio, corpus_db, QUERIES)
    immich = evaluate(search_immich, corpus_db, QUERIES)
    print(f"\naio    {aio}\nimmich {immich}")
    for measure in ("mrr", "precision@10", "recall@10"):
        assert aio[measure] >= immich[measure], (measure, aio, immich)


HOSTILE = [
    '"',
    '""',
    '"""',
    "-",
    "--",
    "- -",
    "OR",
    "OR OR",
    "a OR",
    "OR 发票",
    "!",
    "&",
    "|",
    "<->",
    ":*",
    "'",
    "''",
    "\\",
    "\\\\'",
    "(",
    ")",
    "((发票",
    "发票))",
    "!发票",
    "发票:*",
    "发票:A",
    "&& || !!",
    "\t\n",
    "🎉🎉",
    "发票🧾",
    "ｆｕｌｌｗｉｄｔｈ",
    "١٢٣",
    "𠀀𠀁",
    "%",
    "_",
    "$1",
    "'; DROP TABLE asset; --",
    '-"发票"',
    '"-发票"',
    "发" * 2000,
    "a" * 5000,
    " " * 100,
    "OR -",
    "- OR -",
    "''''",
    "\u200b发票\u200b",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_never_raises(corpus_db, query):
    matching = corpus_db.execute("SELECT count(*) FROM aio.ocr_document d WHERE d.tsv @@ aio.ocr_query(%s)", (query,))
    assert corpus_db.execute("SELECT count(*) FROM aio.ocr_search(%s)", (query,)).fetchone() == matching.fetchone()


def test_fuzz_ocr_query_never_raises_and_keeps_words(corpus_db):
    rng = random.Random(20261125)
    alphabet = string.printable + "发票医院公园上海南站“”‘’，。！？：；、（）【】《》—…·￥🎉\"'\\-:*&|!<>()"
    for _ in range(400):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        corpus_db.execute("SELECT aio.ocr_query(%s)", (query,)).fetchone()
        corpus_db.execute("SELECT asset_id FROM aio.ocr_search(%s) ORDER BY rank DESC LIMIT 10", (query,)).fetchall()
        # A word among the noise still counts: the catch-all in ocr_query must not be what kept us safe.
        tsquery = corpus_db.execute("SELECT aio.ocr_query(%s)::text", (query + " 发票",)).fetchone()[0]
        assert "发票" in tsquery or "-" in query or "OR" in query or '"' in query, (query, tsquery)


def test_a_term_typed_again_is_parsed_once(corpus_db):
    """A A is A and -B -B is -B (0015: a pasted text that repeats itself gave a query of 1071 nodes); with OR a
    repeat may matter ((A | B) & A is not A | B) and is kept."""

    def parsed(q):
        return corpus_db.execute("SELECT aio.ocr_query(%s)::text", (q,)).fetchone()[0]

    assert parsed("发票 发票 发票") == parsed("发票")
    assert parsed("发票 -医院 发票 -医院") == parsed("发票 -医院")
    assert parsed('"上海 发票" 上海 发票 "上海 发票"') == parsed('"上海 发票" 上海 发票')
    assert parsed('"上海 发票" 上海 发票') != parsed('"上海 发票"')  # a phrase and its words unquoted differ
    assert parsed("发票 OR 医院 发票") == "( " + parsed("发票 OR 医院") + " ) & " + parsed("发票")
    long = ("上海增值税专用发票 价税合计 1280.00 " * 30)[:512]
    assert corpus_db.execute("SELECT numnode(aio.ocr_query(%s))", (long,)).fetchone()[0] < 100
    assert search_aio(corpus_db, "发票 发票", 100) == search_aio(corpus_db, "发票", 100)


def test_ocr_search_returns_every_match_ranked_by_the_key_word_or_the_whole_query(corpus_db):
    """aio.ocr_search, which the Immich patch joins, returns every match of aio.ocr_query, each once. A match that
    holds the word of the list read (the query's key word, or the word a query without one is split on) ranks by
    aio.ocr_rank of that word; a match of listed words joined by OR by the best of its words there; any other match
    by the rank of the whole query; times 1.5 for a document in the form the query was typed in (both plain, or both
    not). Where lists are read for a query not typed plain, every rank is 1.5 times higher: the order is the same.
    A match that holds a run typed as several words together as typed ranks 1000 higher, by the rank of the run's
    rarest character pair where lists are read."""
    keyed = by_best_word = held = 0
    extra = [
        '"华山医院"',
        "支付宝账单",
        "支付宝账单 -付款码",
        "发票 -增值税",
        "医院 OR 公园",
        "!!!",
        "",
        "圖書館",
        "ＳＦ１２３４",
        "發票 醫院",
        "医院 OR SF1234",
        "發票 OR 醫院 OR 公園",
        "发票 OR 票价 OR 火车票 OR 发票",
    ]
    for query in [*QUERIES, *extra]:
        key_word, or_words, typed_plain, together, together_word = corpus_db.execute(
            "SELECT (aio.search_plan(%(q)s)).key_word, (aio.search_plan(%(q)s)).or_words, "
            "(aio.search_plan(%(q)s)).typed_plain, (aio.search_plan(%(q)s)).together::text, "
            "(aio.search_plan(%(q)s)).together_word",
            {"q": query},
        ).fetchone()
        held_together = "(%(together)s::tsquery IS NOT NULL AND d.tsv @@ %(together)s::tsquery)"
        # a Chinese word as a word where the document has it so, else as characters; a character as a word or inside
        # one; a Latin word or code as itself
        ranked_by = (
            "CASE WHEN k.key IS NULL OR NOT d.tsv @@ k.key::tsquery THEN aio.ocr_query(%(q)s) "
            "WHEN k.key ~ '^.[0-9a-z]' THEN k.key::tsquery WHEN char_length(k.key) = 3 THEN (k.key || ':AD')::tsquery "
            "WHEN d.tsv @@ (k.key || ':A')::tsquery THEN (k.key || ':A')::tsquery ELSE (k.key || ':D')::tsquery END"
        )
        best_word = (
            "(SELECT max(aio.ocr_rank(d.tsv, (quote_literal(w) || ':A')::tsquery)) FROM unnest(%(or)s::text[]) AS w "
            "WHERE d.tsv @@ (quote_literal(w) || ':A')::tsquery)"
        )
        rows = corpus_db.execute(
            f"SELECT s.rank, CASE WHEN %(or)s::text[] IS NULL THEN aio.ocr_rank(d.tsv, {ranked_by}) ELSE {best_word} "
            f"END, d.plain = (lower(%(q)s) = aio.normalize(%(q)s)), {held_together} "
            "FROM aio.ocr_search(%(q)s) s JOIN aio.ocr_document d USING (asset_id), "
            f"quote_literal(CASE WHEN %(key)s::text IS NOT NULL AND {held_together} THEN %(pair)s ELSE %(key)s END) "
            "AS k(key)",
            {"q": query, "key": key_word, "or": or_words, "together": together, "pair": together_word},
        ).fetchall()
        matching = corpus_db.execute(
            "SELECT count(*) FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s)", (query,)
        ).fetchone()[0]
        assert len(rows) == matching, query
        assert (
            len({row[0] for row in corpus_db.execute("SELECT asset_id FROM aio.ocr_search(%s)", (query,))}) == matching
        )
        scale = 1.5 if (key_word is not None or or_words is not None) and not typed_plain else 1
        for rank, expected, same_form, is_together in rows:
            assert (rank >= 1000) == is_together, query
            # a real holds about 7 digits: beside 1000, the rank's own part to 1e-4
            tolerance = {"abs": 1e-4} if is_together else {"rel": 1e-5}
            assert rank - (1000 if is_together else 0) == pytest.approx(
                expected * (1.5 if same_form else 1) * scale, **tolerance
            ), query
        held += sum(row[3] for row in rows)
        keyed += key_word is not None
        by_best_word += or_words is not None
    assert keyed >= len(QUERIES) // 2  # most of these read a list: the test covers both paths
    assert held > 0  # and matches held together
    assert by_best_word == 3  # the ORs of listed words above


def test_plain_flags_the_documents_in_the_searchable_form(corpus_db):
    for lines, plain in ((["上海图书馆", "Century Park"], True), (["臺北車站"], False), (["ＷｉＦｉ"], False)):
        ident = insert_ocr(corpus_db, "plain-check", lines)
        assert (
            corpus_db.execute("SELECT plain FROM aio.ocr_document WHERE asset_id = %s", (ident,)).fetchone()[0] is plain
        )
        corpus_db.execute("DELETE FROM asset WHERE id = %s", (ident,))


@pytest.mark.parametrize(
    "query, document, snippet",
    [
        ("医院", "hospital-huashan", "<b>医院</b>"),
        ("华山医院", "hospital-huashan", "<b>华山医院</b>"),
        ('"专用发票"', "invoice-vat", "<b>专用发票</b>"),
    ],
)
def test_snippet_marks_the_matching_words_in_the_matching_lines(corpus_db, query, document, snippet):
    body, marked = corpus_db.execute(
        "SELECT body, aio.ocr_snippet(body, aio.ocr_query(%s)) FROM aio.ocr_document WHERE asset_id = %s",
        (query, asset_id(document)),
    ).fetchone()
    assert snippet in marked
    lines = body.split("\n")
    for part in marked.split(" … "):  # whole OCR lines, as read, never rebuilt from tokens
        assert part.replace("<b>", "").replace("</b>", "") in lines
    assert len(marked.split(" … ")) <= 2


def test_snippet_never_marks_excluded_words_and_survives_any_input(corpus_db):
    marked = corpus_db.execute(
        "SELECT aio.ocr_snippet(body, aio.ocr_query('发票 -代码')) FROM aio.ocr_document WHERE asset_id = %s",
        (asset_id("invoice-vat"),),
    ).fetchone()[0]
    assert marked is None or "<b>代码</b>" not in marked
    for query in ["a.b", "(x)", "it's", "[", "\\", "*", "$1", "''"]:
        corpus_db.execute("SELECT aio.ocr_snippet(body, aio.ocr_query(%s)) FROM aio.ocr_document", (query,)).fetchall()
