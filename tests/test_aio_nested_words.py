"""Revision 0014: every dictionary word inside a compound, at any depth (动物 in 上海野生动物园), and still no word
across two (海南 in 上海南站); the words a document had keep their places."""

import psycopg
import pytest

from .support.aio_helpers import asset_id, insert_ocr, load_corpus, search_aio
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available
from .support.search_corpus import MUST_NOT_MATCH, QUERIES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

CASES = {
    "zoo": ["上海野生动物园 成人票 130元"],  # 上海野生动物园: 上海 野生 动物园; 动物园: 动物
    "library": ["上海图书馆 东馆"],  # 图书馆: 图书
    "republic": ["中华人民共和国 居民身份证"],  # 共和国: 共和
    "station": ["上海南站 2号口"],  # 上海 南站: 海南 straddles them
}
BEFORE = "0013_halfwidth_kana"


def names(ids):
    known = {asset_id(name): name for name in CASES}
    return {known.get(i, "corpus") for i in ids}


def documents(conn) -> dict[str, dict[str, list[str]]]:
    """Each document's words, with their places and weights ("4A"), as aio.ocr_document holds them."""
    rows = conn.execute(
        "SELECT d.asset_id, u.lexeme, array(SELECT p || w FROM unnest(u.positions, u.weights) AS x(p, w)) "
        "FROM aio.ocr_document AS d, unnest(d.tsv) AS u"
    )
    found: dict = {}
    for ident, word, places in rows.fetchall():
        found.setdefault(ident, {})[word] = places
    return found


@pytest.fixture()
def upgraded(immich_db):
    """The corpus loaded at 0013, then upgraded to 0014 as a user's library is: returns the documents before."""
    assert migrate(immich_db, "upgrade", BEFORE) == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        before = documents(conn)
        assert migrate(immich_db, "upgrade") == 0
        yield conn, before


def test_words_nested_at_any_depth_are_found(upgraded):
    conn, _ = upgraded
    assert names(search_aio(conn, "动物", 50)) == {"zoo"}  # two levels down
    assert names(search_aio(conn, "动物园", 50)) == {"zoo"}  # one level down, as before
    assert names(search_aio(conn, "图书", 50)) >= {"library"}
    assert names(search_aio(conn, "共和", 50)) == {"republic"}
    matched = conn.execute("SELECT text, ranges FROM aio.ocr_matches(%s, '动物')", ([asset_id("zoo")],)).fetchone()
    assert [matched[0][start:end] for start, end in matched[1]] == ["动物"]


def test_a_word_across_two_words_is_still_not_found(upgraded):
    conn, _ = upgraded
    assert "station" not in names(search_aio(conn, "海南", 50))
    for query, wrong in MUST_NOT_MATCH.items():
        found = set(search_aio(conn, query, 100))
        assert not found & {asset_id(name) for name in wrong}, query


def test_the_words_a_document_had_keep_their_places_and_only_nested_words_are_added(upgraded):
    """How the added set is derived: each added word is a dictionary word (zhparser reads it alone as itself),
    inside a word of three characters or more that the document had, at that word's places; a pair of characters
    the document held (as the low-weight safety net) becomes a word where a word holds it (出版 in 出版社)."""
    conn, before = upgraded
    after = documents(conn)
    added_any = 0
    for ident, new in after.items():
        old = before[ident]
        as_word = {w for w, places in old.items() if any(p.endswith("A") for p in places)}
        assert {word: new[word] for word in as_word} == {word: old[word] for word in as_word}  # words unchanged
        for word in set(new) - as_word:
            added = sorted(set(new[word]) - set(old.get(word, [])))
            if not added:
                continue
            added_any += 1
            # a dictionary word (zhparser reads it alone as itself), as a word, at the places of a word that holds it
            holders = [w for w in as_word if len(w) >= 3 and word in w]
            assert holders, (word, new)
            alone = conn.execute("SELECT array_agg(token) FROM ts_debug('aio.zh', %s)", (word,)).fetchone()[0]
            assert alone == [word], (word, alone)
            assert set(added) <= {p for w in holders for p in old[w] if p.endswith("A")}, (word, added)
            assert set(old.get(word, [])) <= set(new[word])  # its characters' places stay
    assert added_any >= 3  # 动物, 图书, 共和 at least


def test_the_corpus_queries_keep_their_matches_and_order(immich_db):
    """Chinese precision: the search corpus's queries find what they found at 0013, in the same order, unless a
    nested word adds a photo that holds it."""
    assert migrate(immich_db, "upgrade", BEFORE) == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        before = {q: search_aio(conn, q, 50) for q in QUERIES}
        assert migrate(immich_db, "upgrade") == 0
        after = {q: search_aio(conn, q, 50) for q in QUERIES}
        for query in QUERIES:
            assert [i for i in after[query] if i in before[query]] == before[query], query
            assert not set(before[query]) - set(after[query]), query


def test_upgrade_and_downgrade_rebuild_the_documents(immich_db):
    assert migrate(immich_db, "upgrade", BEFORE) == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        insert_ocr(conn, "zoo", CASES["zoo"])
        assert search_aio(conn, "动物", 50) == []
        assert migrate(immich_db, "upgrade") == 0
        assert names(search_aio(conn, "动物", 50)) == {"zoo"}
        assert conn.execute("SELECT count(*) FROM aio.check_ocr()").fetchone()[0] == 0
        assert migrate(immich_db, "downgrade", BEFORE) == 0
        assert search_aio(conn, "动物", 50) == []
        assert conn.execute("SELECT count(*) FROM aio.check_ocr()").fetchone()[0] == 0


def test_a_downgrade_below_0009_leaves_no_nested_word(immich_db):
    """No check follows `db downgrade` below 0009 (aio.ocr_build is 0009's): 0014's downgrade rebuilds itself."""
    assert migrate(immich_db, "upgrade") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        assert names(search_aio(conn, "动物", 50)) == {"zoo"}
        assert migrate(immich_db, "downgrade", "0008_match_ranges") == 0
        assert search_aio(conn, "动物", 50) == []
        stale = "SELECT count(*) FROM aio.ocr_document WHERE tsv <> aio.ocr_tsvector(body)"
        assert conn.execute(stale).fetchone()[0] == 0
