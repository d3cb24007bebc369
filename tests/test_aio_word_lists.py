"""Revisions 0005, 0006 and 0007: ordered word lists. Which word a query reads (aio.key_word, aio.split_word), that the
lists follow every change of the documents, that a search reads only the top of a list, and that it returns the
order of ranking every match."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from .support.aio_helpers import insert_ocr
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available
from .support.search_corpus import DOCUMENTS

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

# Traditional and full-width lines beside the corpus's Simplified ones: documents that are not plain.
NOT_PLAIN = [
    "上海增值稅專用發票",
    "復旦大學附屬華山醫院",
    "世紀公園 Century Park",
    "電影票 票價 45元",
    "ＳＦ１２３４５６７８９０",
]
# A code's letters and digits apart, and a code inside a longer one: matches of SF1234567890 that do not hold it
# whole, so they are not in its list.
CODE_APART = ["运单号 1234567890 SF", "单号 XSF12345678901"]
LINES = [line for lines in DOCUMENTS.values() for line in lines] + NOT_PLAIN * 3 + CODE_APART
# The list is read from the top: what Immich asks for, the first page joined to the assets, best first.
FIRST_PAGE = (
    'SELECT a.id FROM asset a JOIN aio.ocr_search(%(q)s) m ON m.asset_id = a.id WHERE a."deletedAt" IS NULL '
    'ORDER BY m.rank DESC, a."fileCreatedAt" DESC LIMIT %(n)s'
)
# The same page from every match ranked, as the documented order says: a match holding the word of the list read
# by that word's rank (a Chinese word as a word, or else as characters; a character as a word or inside one; a
# Latin word or code at any weight), any other match (no list, or the rest of a split query) by the whole query;
# exact forms x1.5. A run of several words held together as typed (0012), among the photos of the top of its rarest
# pair's list: first (+1000), by that pair's rank.
EVERY_MATCH_RANKED = """
SELECT a.id FROM asset a JOIN (
  SELECT d.asset_id,
         (CASE WHEN d.plain = (lower(%(q)s) = aio.normalize(%(q)s)) THEN 1.5 ELSE 1 END
          * aio.ocr_rank(d.tsv, CASE WHEN key IS NULL OR NOT d.tsv @@ key::tsquery THEN aio.ocr_query(%(q)s)
                                     WHEN key ~ '^.[0-9a-z]' THEN key::tsquery
                                     WHEN char_length(key) = 3 THEN (key || ':AD')::tsquery
                                     WHEN d.tsv @@ (key || ':A')::tsquery THEN (key || ':A')::tsquery
                                     ELSE (key || ':D')::tsquery END)
          + CASE WHEN h.held THEN 1000 ELSE 0 END)::real AS rank
  FROM aio.ocr_document d, aio.search_plan(%(q)s) AS p,
       LATERAL (SELECT coalesce(d.asset_id = ANY (aio.together_top(%(q)s)) AND d.tsv @@ p.together, false) AS held)
         AS h,
       quote_literal(CASE WHEN h.held THEN p.together_word ELSE p.key_word END) AS key
  WHERE d.tsv @@ aio.ocr_query(%(q)s)
) m ON m.asset_id = a.id WHERE a."deletedAt" IS NULL ORDER BY m.rank DESC, a."fileCreatedAt" DESC LIMIT %(n)s
"""
# Listed words joined by OR (revision 0007): each match by the best of its words, as a word; exact forms x1.5.
BEST_WORD_RANKS = """
SELECT d.asset_id, max((CASE WHEN d.plain = (lower(%(q)s) = aio.normalize(%(q)s)) THEN 1.5 ELSE 1 END
                        * aio.ocr_rank(d.tsv, (quote_literal(w) || ':A')::tsquery))::real) AS rank
FROM aio.ocr_document d, unnest((aio.search_plan(%(q)s)).or_words) AS w
WHERE d.tsv @@ (quote_literal(w) || ':A')::tsquery
GROUP BY d.asset_id
"""
BEST_WORD_RANKED = (
    f"SELECT a.id FROM asset a JOIN ({BEST_WORD_RANKS}) m ON m.asset_id = a.id "
    'WHERE a."deletedAt" IS NULL ORDER BY m.rank DESC, a."fileCreatedAt" DESC LIMIT %(n)s'
)
# aio.ocr_word as the documents say it should be.
WORDS_DIFFER = """
SELECT count(*) FROM (
  (SELECT word, asset_id, plain, is_word, rank FROM aio.ocr_word
   EXCEPT ALL
   SELECT r.word, d.asset_id, d.plain, r.is_word, r.rank FROM aio.ocr_document d, aio.ocr_word_rows(d.tsv, d.plain) r)
  UNION ALL
  (SELECT r.word, d.asset_id, d.plain, r.is_word, r.rank FROM aio.ocr_document d, aio.ocr_word_rows(d.tsv, d.plain) r
   EXCEPT ALL
   SELECT word, asset_id, plain, is_word, rank FROM aio.ocr_word)
) differences
"""


def load_library(conn, count: int, seed: int = 3) -> None:
    """`count` photos of 3-8 lines each, in one statement, as a back-fill or a bulk import writes them."""
    rng = random.Random(seed)
    assets, boxes = [], []
    for number in range(count):
        ident = f"00000000-0000-4000-8000-{number:012d}"
        assets.append((ident, datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=number * 7)))
        for index, line in enumerate(rng.sample(LINES, rng.randint(3, 8))):
            top = 0.05 + index * 0.1
            boxes.append((ident, 0.1, top, 0.9, top, 0.9, top + 0.06, 0.1, top + 0.06, 0.9, 0.95, line))
    with conn.cursor() as cur:
        with cur.copy('COPY asset (id, "fileCreatedAt") FROM STDIN') as copy:
            for row in assets:
                copy.write_row(row)
        with cur.copy(
            'COPY asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) FROM STDIN'
        ) as copy:
            for row in boxes:
                copy.write_row(row)
    conn.execute("VACUUM (ANALYZE)")  # as autovacuum does soon after a bulk load


@pytest.fixture(scope="module")
def library(new_database):
    url = new_database("word_lists")
    assert migrate(url, "upgrade") == 0
    conn = psycopg.connect(url, autocommit=True)
    load_library(conn, 3000)
    yield conn
    conn.close()


def key_word(conn, query: str) -> str | None:
    """The word every match contains (the list a query reads, unless the query is split)."""
    return conn.execute("SELECT aio.key_word(aio.ocr_query(%s))", (query,)).fetchone()[0]


@pytest.mark.parametrize(
    "query, keys",
    [
        ("发票", {"发票"}),  # one word: its own list
        ("發票", {"发票"}),  # typed Traditional: the searchable form's list
        ("华山医院", {"华山医院"}),  # a dictionary word
        ("增值税发票", {"发票"}),  # 增值税 & 发票, or the characters in a row: only 发票 is in both
        ("发票 医院", {"发票", "医院"}),  # both required: the rarer
        ('"上海南站"', {"上海", "南站", "海南"}),  # 上海 南站 in a row, or its characters: all three are needed
        ("医院 OR 公园", {None}),  # no word in every match
        ("发票 -增值税", {None}),  # exclusions: the list cannot tell
        ("拿铁", {"拿铁"}),  # no dictionary word: the characters in a row, listed as a bigram
        ("票", {"票"}),  # one character: listed too
        ("收 据", {"收", "据"}),  # two characters apart: the rarer
        ("SF1234567890", {None}),  # a code: its letters and digits, the code whole, or inside a longer one
        ("Century Park", {"century", "park"}),  # Latin words of four letters or more are listed too
        ("Wi-Fi 密码", {"密码"}),  # wi and fi are too short to be listed
        ("!!!", {None}),
        ("", {None}),
    ],
)
def test_key_word_is_the_rarest_word_every_match_contains(library, query, keys):
    found = key_word(library, query)
    assert found in keys
    if found is None:
        return
    count = "SELECT count(*) FROM aio.ocr_document WHERE tsv @@ (quote_literal(%s))::tsquery"
    assert all(
        library.execute(count, (found,)).fetchone()[0] <= library.execute(count, (k,)).fetchone()[0] for k in keys
    )
    matches = library.execute("SELECT count(*) FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s)", (query,))
    in_list = library.execute(
        "SELECT count(*) FROM aio.ocr_word w WHERE w.word = %s "
        "AND w.asset_id IN (SELECT asset_id FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s))",
        (found, query),
    )
    expected = matches.fetchone()[0]
    assert expected > 0 and in_list.fetchone()[0] == expected  # the list holds every match


def test_key_word_needs_zhparser_words(immich_db):
    """In the degraded mode documents hold no words: every query ranks every match."""
    assert migrate(immich_db, "upgrade", mode="degraded") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        insert_ocr(conn, "invoice", ["上海增值税专用发票"])
        assert key_word(conn, "发票") is None
        assert conn.execute("SELECT count(*) FROM aio.ocr_search('发票')").fetchone()[0] == 1


@pytest.mark.parametrize(
    "query",
    [
        "发票",
        "医院",
        "公园",
        "票价",
        "火车票",
        "發票",
        "華山醫院",
        "增值税发票",
        "世纪公园",
        "请保持安静",
        "拿铁",
        "票",
        "票 价",
    ]
    + ["医院 OR 公园", "發票 OR 醫院 OR 公園", "发票 OR 票价 OR 火车票"],
)
def test_first_page_is_the_order_of_every_match_ranked(library, query):
    """The same pages. Listed words joined by OR: by the best of their words, the same page where the query is typed
    plain; typed otherwise, the same ranks at every place (the lists hold exact forms x2.25 against x1.5 here, so
    two photos may tie or untie in the last bit of a rank, and the date then orders them)."""
    or_words, typed_plain = library.execute(
        "SELECT (aio.search_plan(%(q)s)).or_words, (aio.search_plan(%(q)s)).typed_plain", {"q": query}
    ).fetchone()
    assert (or_words is not None) == (" OR " in query)
    for size in (1, 20, 500):
        params = {"q": query, "n": size}
        page = library.execute(FIRST_PAGE, params).fetchall()
        expected = library.execute(EVERY_MATCH_RANKED if or_words is None else BEST_WORD_RANKED, params).fetchall()
        if or_words is None or typed_plain:
            assert page and page == expected, (query, size)
            continue
        ranked = dict(library.execute(BEST_WORD_RANKS, {"q": query}).fetchall())
        assert len(page) == len(expected) == size
        assert [ranked[row[0]] for row in page] == pytest.approx([ranked[row[0]] for row in expected], rel=1e-6)


class PlanNodes(list):
    """The nodes of an executed plan, flattened; printed as the plan's tree, so a failing assertion shows the plan."""

    def __init__(self, root: dict):
        super().__init__()
        self.lines = []
        pending = [(root, 0)]
        while pending:
            node, depth = pending.pop()
            self.append(node)
            target = node.get("Index Name") or node.get("Relation Name") or ""
            self.lines.append(
                f"{'  ' * depth}{node['Node Type']} {target} (estimated {node['Plan Rows']}, read "
                f"{node.get('Actual Rows')} x {node.get('Actual Loops')})"
            )
            pending.extend((child, depth + 1) for child in reversed(node.get("Plans", [])))

    def __repr__(self) -> str:
        return "\n" + "\n".join(self.lines)


def plan_nodes(conn, query: str, size: int) -> PlanNodes:
    # prepare=False: the plan of this statement as written; a prepared search is tested on its own below.
    plan = conn.execute(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + FIRST_PAGE, {"q": query, "n": size}, prepare=False
    ).fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return PlanNodes(plan[0]["Plan"])


@pytest.mark.parametrize("query", ["发票", "發票", "增值税发票"])
def test_a_search_reads_only_the_top_of_the_list(library, query):
    matches = library.execute(
        "SELECT count(*) FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s)", (query,)
    ).fetchone()
    assert matches[0] > 300
    nodes = plan_nodes(library, query, 20)
    lists = [n for n in nodes if n.get("Relation Name") == "ocr_word" and n["Actual Loops"] > 0]
    assert lists and sum(n["Actual Rows"] for n in lists) < matches[0] / 3, nodes
    # nothing scans the documents to rank them: they are only looked up, one per row read
    scans = [n for n in nodes if n["Node Type"] == "Bitmap Heap Scan" and n["Actual Loops"] > 0]
    assert not [n for n in scans if n["Relation Name"] == "ocr_document"], nodes


@pytest.mark.parametrize("query", ["发票", "票", "增值税发票", "SF1234567890", "医院 OR 公园 OR 发票"])
def test_a_first_page_never_waits_for_parallel_workers(library, query):
    """A page is the top of a list: starting parallel workers (about 30 ms at 1 000 000 photos, where the serial read
    takes 2 ms) never pays. Here the planner is told workers are free, as it judges them on a large library: still
    no list is read in parallel. (With workers free it may still plan other small parts in parallel, e.g. a split
    query's rest by photo; at its real costs it does not.)"""
    settings = [
        "parallel_setup_cost = 0",
        "parallel_tuple_cost = 0",
        "min_parallel_index_scan_size = 0",
        "min_parallel_table_scan_size = 0",
        "max_parallel_workers_per_gather = 2",
    ]
    try:
        for setting in settings:
            library.execute(f"SET {setting}")
        nodes = plan_nodes(library, query, 20)
        lists = [n for n in nodes if n.get("Relation Name") == "ocr_word"]
        assert [n for n in lists if n["Actual Loops"] > 0], nodes
        assert not [n for n in lists if n["Parallel Aware"]], nodes
    finally:
        library.execute("RESET ALL")


@pytest.mark.parametrize("query", ["医院 OR 公园 OR 发票 OR 上海", "发票"])
def test_a_search_is_never_jit_compiled(library, query):
    """At 1 000 000 photos a search of many words is costed past jit_above_cost and LLVM compiled it for 460 ms
    before a 26 ms run. Here every JIT threshold is 0: the database's own setting (0015) still keeps JIT off."""
    assert library.execute("SHOW jit").fetchone()[0] == "off"
    try:
        for setting in ("jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost"):
            library.execute(f"SET {setting} = 0")
        plan = library.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + FIRST_PAGE, {"q": query, "n": 20}, prepare=False
        ).fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        assert "JIT" not in plan[0], plan[0].get("JIT")
    finally:
        library.execute("RESET ALL")


def jit_setting(conn) -> str | None:
    return conn.execute(
        "SELECT c FROM pg_db_role_setting AS s, unnest(s.setconfig) AS c, pg_database AS d "
        "WHERE d.datname = current_database() AND s.setdatabase = d.oid AND s.setrole = 0 "
        "AND split_part(c, '=', 1) = 'jit'"
    ).fetchone()


def test_jit_is_turned_off_for_the_database_unless_its_owner_set_it(immich_db, new_database):
    with psycopg.connect(immich_db, autocommit=True) as conn:
        assert migrate(immich_db, "upgrade", "0014_nested_words") == 0
        assert jit_setting(conn) is None
        assert migrate(immich_db, "upgrade") == 0
        assert jit_setting(conn) == ("jit=off",)
        with psycopg.connect(immich_db) as later:  # a connection opened after the upgrade
            assert later.execute("SHOW jit").fetchone()[0] == "off"
        assert migrate(immich_db, "downgrade", "0014_nested_words") == 0
        assert jit_setting(conn) is None
    # an owner's own choice stays, through the upgrade and the downgrade
    chosen = new_database("jit_chosen")
    with psycopg.connect(chosen, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET jit = on").format(sql.Identifier(conn.info.dbname)))
        assert migrate(chosen, "upgrade") == 0
        assert jit_setting(conn) == ("jit=on",)
        assert conn.execute("SELECT count(*) FROM aio.install WHERE key = 'database_jit_off'").fetchone()[0] == 0
        assert migrate(chosen, "downgrade", "0014_nested_words") == 0
        assert jit_setting(conn) == ("jit=on",)


def test_without_the_right_to_alter_the_database_the_jit_step_warns_and_goes_on(immich_db):
    """A database user that does not own the database cannot turn JIT off: the upgrade must still succeed."""
    step = (Path(__file__).resolve().parents[1] / "alembic" / "sql" / "0015" / "database_jit.sql").read_text()
    with psycopg.connect(immich_db, autocommit=True) as conn:
        assert migrate(immich_db, "upgrade", "0014_nested_words") == 0
        conn.execute("DROP ROLE IF EXISTS aio_not_owner")
        conn.execute("CREATE ROLE aio_not_owner")
        try:
            conn.execute("GRANT USAGE ON SCHEMA aio TO aio_not_owner")
            conn.execute("GRANT INSERT ON aio.install TO aio_not_owner")
            warnings = []
            conn.add_notice_handler(lambda notice: warnings.append(notice.message_primary))
            conn.execute("SET ROLE aio_not_owner")
            conn.execute(step)
            conn.execute("RESET ROLE")
            assert jit_setting(conn) is None
            assert conn.execute("SELECT count(*) FROM aio.install WHERE key = 'database_jit_off'").fetchone()[0] == 0
            assert any("JIT stays on" in message for message in warnings), warnings
        finally:
            conn.execute("RESET ROLE")
            conn.execute("REVOKE ALL ON aio.install FROM aio_not_owner")
            conn.execute("REVOKE ALL ON SCHEMA aio FROM aio_not_owner")
            conn.execute("DROP ROLE aio_not_owner")


def test_a_query_without_a_key_word_ranks_every_match(library):
    query = "发票 -增值税"
    matches = library.execute("SELECT count(*) FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s)", (query,))
    nodes = plan_nodes(library, query, 20)
    scans = [n for n in nodes if n.get("Relation Name") == "ocr_document" and n["Actual Loops"] > 0]
    assert scans and max(n["Actual Rows"] for n in scans) == matches.fetchone()[0] > 20
    assert sum(n["Actual Rows"] for n in nodes if n.get("Relation Name") == "ocr_word") == 0  # no list has ''


def test_the_lists_follow_every_change_of_the_documents(library):
    assert library.execute(WORDS_DIFFER).fetchone()[0] == 0
    assert library.execute("SELECT count(*) FROM aio.ocr_word").fetchone()[0] > 10000
    ident = insert_ocr(library, "lists-new", ["今日菜单 宫保鸡丁"])
    assert library.execute("SELECT count(*) FROM aio.ocr_word WHERE asset_id = %s", (ident,)).fetchone()[0] > 2
    # Immich's OCR job again: the boxes replaced, the text now Traditional (the plain flag changes too)
    library.execute('DELETE FROM asset_ocr WHERE "assetId" = %s', (ident,))
    insert_ocr(library, "lists-new", ["今日菜單 宮保雞丁 上海南站"])
    library.execute("UPDATE asset_ocr SET text = text || ' 发票' WHERE \"assetId\" = %s", (ident,))
    assert library.execute(WORDS_DIFFER).fetchone()[0] == 0
    assert library.execute(
        "SELECT count(*) FROM aio.ocr_word WHERE word = '南站' AND asset_id = %s", (ident,)
    ).fetchone()
    # an asset deleted: the cascade removes its document, the trigger its words
    library.execute("DELETE FROM asset WHERE id = %s", (ident,))
    assert library.execute("SELECT count(*) FROM aio.ocr_word WHERE asset_id = %s", (ident,)).fetchone()[0] == 0
    assert library.execute(WORDS_DIFFER).fetchone()[0] == 0


def test_truncating_the_documents_empties_the_lists(immich_db):
    assert migrate(immich_db, "upgrade") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        insert_ocr(conn, "invoice", ["上海增值税专用发票"])
        assert conn.execute("SELECT count(*) FROM aio.ocr_word").fetchone()[0] > 0
        conn.execute("TRUNCATE asset_ocr")
        assert conn.execute("SELECT count(*) FROM aio.ocr_word").fetchone()[0] == 0


def test_upgrade_lists_an_existing_library_and_downgrade_removes_the_lists(immich_db):
    # up to 0013: 0014 adds nested words to the documents themselves (a page may gain a photo), which
    # tests/test_aio_nested_words.py checks; here the lists must give the pages the documents gave
    lists = "0013_halfwidth_kana"
    with psycopg.connect(immich_db, autocommit=True) as conn:
        assert migrate(immich_db, "upgrade", "0004_normalised_search") == 0
        load_library(conn, 200)
        before = conn.execute(FIRST_PAGE, {"q": "医院", "n": 50}).fetchall()
        assert migrate(immich_db, "upgrade", lists) == 0
        assert conn.execute(WORDS_DIFFER).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM aio.ocr_word").fetchone()[0] > 1000
        assert conn.execute(FIRST_PAGE, {"q": "医院", "n": 50}).fetchall() == before
        assert migrate(immich_db, "downgrade", "0004_normalised_search") == 0
        assert conn.execute("SELECT to_regclass('aio.ocr_word')").fetchone()[0] is None
        assert conn.execute("SELECT to_regtype('aio.search_plan')").fetchone()[0] is None
        assert conn.execute(FIRST_PAGE, {"q": "医院", "n": 50}).fetchall() == before
        single = conn.execute(FIRST_PAGE, {"q": "发票", "n": 50}).fetchall()
        assert migrate(immich_db, "upgrade", lists) == 0
        assert conn.execute(FIRST_PAGE, {"q": "发票", "n": 50}).fetchall() == single


def test_a_prepared_search_keeps_planning_each_query(library):
    """Immich's driver prepares its statements. PostgreSQL may then switch to one generic plan, in which the key
    word is unknown and the query is parsed again for every row. It does so only when the generic plan looks
    cheaper than the custom ones: aio.search_plan's cost keeps it far above the dearest of them."""
    page = FIRST_PAGE.replace("%(q)s", "$1").replace("%(n)s", "$2")
    library.execute(f"PREPARE page(text, int) AS {page}")

    def cost(mode: str, query: str) -> float:
        library.execute(f"SET plan_cache_mode = {mode}")
        plan = library.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE page({}, 20)").format(sql.Literal(query))  # no parameters here
        ).fetchone()[0]
        return (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Total Cost"]

    try:
        queries = ["医院 OR 公园 OR 发票 OR 上海", "SF1234567890", "发票 -增值税", "票", "发票", "增值税发票", "發票"]
        dearest = max(cost("force_custom_plan", query) for query in queries)
        assert cost("force_generic_plan", "发票") > 3 * dearest
        library.execute("SET plan_cache_mode = auto")
        counts = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'page'"
        generic, custom = library.execute(counts).fetchone()
        for query in queries * 2:
            library.execute(sql.SQL("EXECUTE page({}, 20)").format(sql.Literal(query)))
        assert library.execute(counts).fetchone() == (generic, custom + 2 * len(queries))
    finally:
        library.execute("RESET plan_cache_mode")
        library.execute("DEALLOCATE page")


def test_words_joined_by_or_read_only_the_top_of_their_lists(library):
    query = "医院 OR 公园 OR 发票"
    assert sorted(library.execute("SELECT (aio.search_plan(%s)).or_words", (query,)).fetchone()[0]) == sorted(
        ["医院", "公园", "发票"]
    )
    matches = library.execute(MATCHES, (query,)).fetchone()[0]
    assert matches > 1000
    # every match once, at its best word
    assert library.execute(
        "SELECT count(*), count(DISTINCT asset_id) FROM aio.ocr_search(%s)", (query,)
    ).fetchone() == (
        matches,
        matches,
    )
    nodes = plan_nodes(library, query, 20)
    assert not [n for n in nodes if n.get("Relation Name") == "ocr_document" and n["Actual Rows"] > 0]
    # the lists are merged in rank order and each row read is checked by asset: no list is read whole, hashed or
    # sorted
    read = [n for n in nodes if n.get("Index Name") == "ocr_word_list" and n["Actual Loops"] > 0]
    assert read and sum(n["Actual Rows"] * n["Actual Loops"] for n in read) < matches / 10, nodes
    assert [n for n in nodes if n.get("Index Name") == "ocr_word_of_asset" and n["Actual Loops"] > 0], nodes
    assert not [n for n in nodes if n["Node Type"] in ("Hash", "Aggregate", "Sort") and n["Actual Loops"] > 0], nodes
    for mixed in ["医院 OR 拿铁", "医院 OR SF1234567890", "医院 OR 公园 -发票"]:  # not listed words alone: no OR lists
        assert library.execute("SELECT (aio.search_plan(%s)).or_words", (mixed,)).fetchone()[0] is None


def test_an_or_of_more_words_than_are_read_apart_ranks_as_a_query_without_a_list(library):
    candidates = library.execute(
        "SELECT word FROM aio.ocr_word WHERE is_word AND char_length(word) >= 2 AND word !~ '[0-9a-z]' "
        "GROUP BY word ORDER BY count(*) DESC, word LIMIT 80"
    ).fetchall()
    words = [
        w for (w,) in candidates if library.execute("SELECT aio.ocr_query(%s)::text", (w,)).fetchone()[0] == f"'{w}':A"
    ]
    assert len(words) > 33
    plan = "SELECT (aio.search_plan(%s)).or_words"
    assert len(library.execute(plan, (" OR ".join(words[:32]),)).fetchone()[0]) == 32
    query = " OR ".join(words[:33])
    assert library.execute(plan, (query,)).fetchone()[0] is None
    matches = library.execute(MATCHES, (query,)).fetchone()[0]
    assert library.execute(
        "SELECT count(*), count(DISTINCT asset_id) FROM aio.ocr_search(%s)", (query,)
    ).fetchone() == (
        matches,
        matches,
    )
    page = library.execute(FIRST_PAGE, {"q": query, "n": 50}).fetchall()
    assert page == library.execute(EVERY_MATCH_RANKED, {"q": query, "n": 50}).fetchall()


# Revision 0006: codes and Latin words are listed; a query with no key word is split on a word of it.
SPLIT = "SELECT (aio.search_plan(%s)).key_word, (aio.search_plan(%s)).rest_assets"
MATCHES = "SELECT count(*) FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s)"


@pytest.mark.parametrize(
    "query, word",
    [
        ("SF1234567890", "sf1234567890"),  # a code: split on the code whole
        ("ＳＦ１２３４５６７８９０", "sf1234567890"),  # typed full-width
        ("SF-1234-567890", "sf1234567890"),  # with separators
        ("1234567890", "1234567890"),
        ("医院 OR SF1234567890", "sf1234567890"),
        ("SF1234567890 -医院", None),  # exclusions: a list cannot tell
        ("医院 OR 拿铁", None),  # no word of it makes a match by itself
        ("Wi", None),  # too short to be listed
        ("票 OR 医院", "票"),  # the character makes a match; 医院 (as a word only) does not, as characters alone
    ],
)
def test_a_query_without_a_key_word_is_split_on_a_word_that_makes_a_match(library, query, word):
    split, rest = library.execute(SPLIT, (query, query)).fetchone()
    assert split == word
    if word is None:
        assert rest is None
        return
    assert key_word(library, query) is None  # not every match holds it
    # every document holding the word matches, and the others are the rest: no match is lost, none counted twice
    holding = "SELECT asset_id FROM aio.ocr_document WHERE tsv @@ quote_literal(%s)::tsquery"
    assert not library.execute(
        f"{holding} EXCEPT SELECT asset_id FROM aio.ocr_document WHERE tsv @@ aio.ocr_query(%s)", (word, query)
    ).fetchall()
    in_list = library.execute("SELECT count(*) FROM aio.ocr_word WHERE word = %s", (word,)).fetchone()[0]
    assert in_list == len(library.execute(holding, (word,)).fetchall()) > 0
    assert in_list + len(rest) == library.execute(MATCHES, (query,)).fetchone()[0]
    assert library.execute("SELECT count(*) FROM aio.ocr_search(%s)", (query,)).fetchone()[0] == in_list + len(rest)


@pytest.mark.parametrize(
    "query",
    ["SF1234567890", "ＳＦ１２３４５６７８９０", "1234567890", "Immich2024", "Century Park", "医院 OR SF1234567890"],
)
def test_first_page_of_a_code_or_latin_words_is_the_documented_order(library, query):
    rest = library.execute(SPLIT, (query, query)).fetchone()[1]
    assert query != "SF1234567890" or rest  # photos with the code apart, or inside a longer one (CODE_APART)
    for size in (1, 20, 500):
        params = {"q": query, "n": size}
        page = library.execute(FIRST_PAGE, params).fetchall()
        assert page and page == library.execute(EVERY_MATCH_RANKED, params).fetchall(), (query, size)


def test_a_code_search_reads_its_list_and_only_its_rest_of_the_documents(library):
    """The code's list is read from its index, and of the documents only the rest, by asset. Whether the list is
    read only at its top is the planner's choice by its length: here (437 rows) reading it whole and sorting is
    about as cheap, and since 0015 (no parallel read) the planner sometimes takes that; at 1 000 000 the bench's
    --explain-slowest shows the top read (115 rows of a code's 37 000)."""
    query = "SF1234567890"
    matches = library.execute(MATCHES, (query,)).fetchone()[0]
    rest = library.execute(SPLIT, (query, query)).fetchone()[1]
    assert matches > 3 * len(rest) > 0
    nodes = plan_nodes(library, query, 20)
    lists = [n for n in nodes if n.get("Relation Name") == "ocr_word" and n["Actual Loops"] > 0]
    assert lists and all(n["Node Type"] == "Index Only Scan" for n in lists), nodes
    assert sum(n["Actual Rows"] for n in lists) < matches, nodes
    documents = [n for n in nodes if n.get("Relation Name") == "ocr_document" and n["Actual Loops"] > 0]
    assert sum(n["Actual Rows"] for n in documents) <= len(rest)  # only the rest, looked up by asset
    assert not [n for n in nodes if n["Node Type"] == "Bitmap Heap Scan" and n["Actual Loops"] > 0], nodes


def test_a_query_whose_rest_is_large_ranks_every_match(library):
    query = "上海 OR 发票 OR 医院 OR SF1234567890"  # split on the code, most matches would be the rest
    assert library.execute(MATCHES, ("上海 OR 发票 OR 医院",)).fetchone()[0] > 1000
    assert library.execute(SPLIT, (query, query)).fetchone() == (None, None)
    matches = library.execute(MATCHES, (query,)).fetchone()[0]
    assert library.execute("SELECT count(*) FROM aio.ocr_search(%s)", (query,)).fetchone()[0] == matches
    page = library.execute(FIRST_PAGE, {"q": query, "n": 50}).fetchall()
    assert page == library.execute(EVERY_MATCH_RANKED, {"q": query, "n": 50}).fetchall()


def test_upgrade_lists_codes_of_an_existing_library_and_downgrade_removes_them(immich_db):
    codes = "SELECT count(*) FROM aio.ocr_word WHERE word ~ '^[0-9a-z]+$'"
    with psycopg.connect(immich_db, autocommit=True) as conn:
        assert migrate(immich_db, "upgrade", "0005_ordered_word_lists") == 0
        load_library(conn, 300)
        code = {"q": "SF1234567890", "n": 1000}
        before = conn.execute(FIRST_PAGE, code).fetchall()
        words = conn.execute("SELECT count(*) FROM aio.ocr_word").fetchone()[0]
        assert conn.execute(codes).fetchone()[0] == 0
        assert migrate(immich_db, "upgrade", "0013_halfwidth_kana") == 0  # 0014 changes the documents themselves
        assert conn.execute(WORDS_DIFFER).fetchone()[0] == 0
        assert conn.execute(codes).fetchone()[0] > 100
        assert conn.execute("SELECT (aio.search_plan('SF1234567890')).key_word").fetchone()[0] == "sf1234567890"
        after = conn.execute(FIRST_PAGE, code).fetchall()
        assert sorted(after) == sorted(before)  # the same photos, now in the documented order
        assert after == conn.execute(EVERY_MATCH_RANKED, code).fetchall()
        assert migrate(immich_db, "downgrade", "0005_ordered_word_lists") == 0
        assert conn.execute(WORDS_DIFFER).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM aio.ocr_word").fetchone()[0] == words
        assert conn.execute("SELECT to_regprocedure('aio.split_word(tsquery)')").fetchone()[0] is None
        assert conn.execute(FIRST_PAGE, code).fetchall() == before


def test_upgrade_ranks_an_or_by_the_best_word_and_downgrade_sums_again(immich_db):
    query = {"q": "医院 OR 公园 OR 发票", "n": 1000}
    with psycopg.connect(immich_db, autocommit=True) as conn:
        assert migrate(immich_db, "upgrade", "0006_code_and_character_lists") == 0
        load_library(conn, 300)
        summed = conn.execute(FIRST_PAGE, query).fetchall()
        assert migrate(immich_db, "upgrade", "0007_or_by_best_word") == 0
        assert conn.execute("SELECT to_regclass('aio.ocr_word_by_asset')").fetchone()[0] is not None
        # 0009 finds the other words by ocr_word_of_asset instead; 0014 changes the documents themselves
        assert migrate(immich_db, "upgrade", "0013_halfwidth_kana") == 0
        by_best_word = conn.execute(FIRST_PAGE, query).fetchall()
        assert sorted(by_best_word) == sorted(summed) and by_best_word != summed  # the same photos, reordered
        assert by_best_word == conn.execute(BEST_WORD_RANKED, query).fetchall()
        assert migrate(immich_db, "downgrade", "0006_code_and_character_lists") == 0
        assert conn.execute("SELECT to_regclass('aio.ocr_word_by_asset')").fetchone()[0] is None
        assert conn.execute("SELECT to_regprocedure('aio.or_matches(text)')").fetchone()[0] is None
        assert conn.execute(FIRST_PAGE, query).fetchall() == summed


FILTER_QUERIES = [
    "发票",
    "發票",
    "增值税发票",
    "医院 OR 公园 OR 发票",
    "发票 -增值税",
    '"上海南站"',
    "SF1234567890",
    "票",
    "Century Park",
    "拿铁",
    "!!!",
    "",
]


@pytest.mark.parametrize("query", FILTER_QUERIES)
def test_matching_assets_are_the_search_unranked(library, query):
    """Revision 0010: counts and filters get the same set as the ranked search, each photo once."""
    ranked = [row[0] for row in library.execute("SELECT asset_id FROM aio.ocr_search(%s)", (query,))]
    unranked = [row[0] for row in library.execute("SELECT asset_id FROM aio.ocr_matching_assets(%s)", (query,))]
    assert len(unranked) == len(set(unranked)) and set(unranked) == set(ranked)
    assert (len(unranked) > 0) == (query not in ("!!!", ""))


def test_matching_assets_read_no_list(library):
    words = library.execute(
        "SELECT word FROM aio.ocr_word WHERE is_word AND char_length(word) >= 2 AND word !~ '[0-9a-z]' "
        "GROUP BY word ORDER BY count(*) DESC, word LIMIT 20"
    ).fetchall()
    query = " OR ".join(word for (word,) in words)
    plan = library.execute(
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM aio.ocr_matching_assets(%s)", (query,), prepare=False
    ).fetchone()[0]
    nodes = PlanNodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert not [n for n in nodes if n.get("Relation Name") == "ocr_word"], nodes
    count = library.execute("SELECT count(*) FROM aio.ocr_matching_assets(%s)", (query,)).fetchone()[0]
    assert count == library.execute(MATCHES, (query,)).fetchone()[0] > 1000


def test_matching_assets_without_zhparser_words(immich_db):
    assert migrate(immich_db, "upgrade", mode="degraded") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        for index, lines in enumerate(DOCUMENTS.values()):
            insert_ocr(conn, f"doc{index}", lines)
        for query in FILTER_QUERIES:
            ranked = {row[0] for row in conn.execute("SELECT asset_id FROM aio.ocr_search(%s)", (query,))}
            unranked = [row[0] for row in conn.execute("SELECT asset_id FROM aio.ocr_matching_assets(%s)", (query,))]
            assert len(unranked) == len(set(unranked)) and set(unranked) == ranked, query


def test_a_run_held_together_reads_only_the_top_of_its_pair_list(library):
    """世纪公园 (世纪 公园): the photos that hold it together come first, checked among the top 200 rows of the
    rarest pair's list only (revision 0012: a sort reads its whole branch), and the key word's list is read
    to the page, not through."""
    query = "世纪公园"
    together_word, top = library.execute(
        "SELECT (aio.search_plan(%(q)s)).together_word, cardinality(aio.together_top(%(q)s))",
        {"q": query},
    ).fetchone()
    listed = library.execute("SELECT count(*) FROM aio.ocr_word WHERE word = %s", (together_word,)).fetchone()[0]
    assert top == 200 and listed > 2 * top
    nodes = plan_nodes(library, query, 20)
    lists = [n for n in nodes if n.get("Relation Name") == "ocr_word" and n["Actual Loops"] > 0]
    assert lists and max(n["Actual Rows"] for n in lists) <= top, nodes
    assert not [n for n in nodes if n.get("Relation Name") == "ocr_document" and n["Node Type"] != "Index Scan"]
