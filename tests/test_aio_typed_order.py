"""Revision 0012: a run typed as several words (支付宝账单: 支付 宝 账单) puts the photos that hold it together, as
typed, above those that hold its words apart (账单 … 支付宝); within each group the order is as before."""

import psycopg
import pytest

from .support.aio_helpers import asset_id, load_corpus, search_aio
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

FILLER = ["交易明细 共38笔", "收入 支出 转账", "餐饮美食 交通出行", "生活缴费 医疗健康", "商户消费 退款", "理财 余额"]
CASES = {
    # together, in a long photo: its words rank low (a long text), below the short photos that hold them apart
    "together": ["2024年12月 支付宝账单", *FILLER],
    "together_hant": ["支付寶帳單 2023", *FILLER],  # Taiwan's 帳 (0011): the same run in Traditional
    "apart_short": ["账单", "支付宝"],
    "apart_lines": ["支付宝 付款码", "本月账单 已出"],
    "reversed": ["账单支付宝"],  # together, but not in the typed order
    "other": ["信用卡 账单"],
    "tw_statement": ["信用卡 對帳單"],  # 对账单 (对 账单) has no word in every match: split, with the rest
}


@pytest.fixture()
def db(immich_db):
    assert migrate(immich_db, "upgrade") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        yield conn


def named(ids):
    known = {asset_id(name): name for name in CASES}
    return [known.get(i, "corpus") for i in ids]


def ranks(conn, query):
    rows = conn.execute("SELECT asset_id, rank FROM aio.ocr_search(%s) ORDER BY rank DESC, asset_id", (query,))
    return {asset_id: rank for asset_id, rank in rows.fetchall()}


def test_the_run_held_together_ranks_above_its_words_apart(db):
    page = named(search_aio(db, "支付宝账单", 50))
    assert set(page[:2]) == {"together", "together_hant"}
    assert set(page[2:]) == {"apart_short", "apart_lines", "reversed"}
    # typed Traditional, the same groups
    assert set(named(search_aio(db, "支付寶帳單", 50))[:2]) == {"together", "together_hant"}
    # an exclusion keeps the groups (such a query has no key word: every match is ranked)
    assert set(named(search_aio(db, "支付宝账单 -付款码", 50))[:2]) == {"together", "together_hant"}
    assert "apart_lines" not in named(search_aio(db, "支付宝账单 -付款码", 50))


def test_together_top_holds_only_the_photos_that_hold_the_run_together(db):
    """aio.together_top checks each of the top rows once (0015): aio.ocr_search trusts it without a check."""
    top = named(db.execute("SELECT aio.together_top(%s)", ("支付宝账单",)).fetchone()[0])
    assert set(top) == {"together", "together_hant"}
    assert db.execute("SELECT aio.together_top(%s)", ("支付宝 OR 账单",)).fetchone()[0] == []
    # cached for the transaction by the query's text: another query is computed afresh
    with db.transaction():
        assert named(db.execute("SELECT aio.together_top(%s)", ("支付宝账单",)).fetchone()[0]) == top
        assert db.execute("SELECT aio.together_top(%s)", ("发票",)).fetchone()[0] == []


@pytest.mark.parametrize(
    "query", ["支付宝账单", "支付寶帳單", "对账单", "对账单 -付款码", "支付宝账单 -付款码", "账单支付宝"]
)
def test_each_match_comes_once(db, query):
    """Whichever branch finds a together match (its pair's list, a split query's rest, every match ranked), it
    comes once, and the matches are the set the filters use."""
    rows = db.execute("SELECT asset_id FROM aio.ocr_search(%s)", (query,)).fetchall()
    matching = {row[0] for row in db.execute("SELECT asset_id FROM aio.ocr_matching_assets(%s)", (query,))}
    assert len(rows) == len({row[0] for row in rows}) == len(matching) > 0, query
    assert {row[0] for row in rows} == matching, query


def test_the_matches_are_the_same_photos_and_each_group_keeps_its_order(db, immich_db):
    """The same matches as the set the filters use (aio.ocr_matching_assets); the photos held apart in the order of
    the key word's list, as before 0012, and the together photos by the rank of the run's rarest character pair."""
    query = "支付宝账单"
    matching = {row[0] for row in db.execute("SELECT asset_id FROM aio.ocr_matching_assets(%s)", (query,))}
    after = ranks(db, query)
    assert set(after) == matching
    key_word, together_word = db.execute(
        "SELECT (aio.search_plan(%(q)s)).key_word, (aio.search_plan(%(q)s)).together_word", {"q": query}
    ).fetchone()
    assert key_word == "支付" and together_word in {"付宝", "宝账", "宝帐"}  # a pair of the run, the rarest listed
    listed = dict(db.execute("SELECT asset_id, rank FROM aio.ocr_word WHERE word = %s", (key_word,)).fetchall())
    pairs = dict(db.execute("SELECT asset_id, rank FROM aio.ocr_word WHERE word = %s", (together_word,)).fetchall())
    for ident, rank in after.items():
        if rank >= 1000:
            assert rank - 1000 == pytest.approx(pairs[ident], abs=1e-4)
        else:
            assert rank == pytest.approx(listed[ident], rel=1e-6)
    assert sum(rank >= 1000 for rank in after.values()) == 2
    # before this revision: the same photos, ranked by the key word alone (the short photo held apart first)
    assert migrate(immich_db, "downgrade", "0011_spellings") == 0
    before = ranks(db, query)
    assert set(before) == matching
    assert named(sorted(before, key=before.get, reverse=True))[0] == "apart_short"
    apart = [ident for ident in sorted(after, key=after.get, reverse=True) if after[ident] < 1000]
    assert apart == [ident for ident in sorted(before, key=before.get, reverse=True) if ident in apart]


@pytest.mark.parametrize(
    "query",
    [
        "账单",  # one word: nothing to hold together
        "支付宝 OR 账单",  # an OR of terms keeps its order
        "账单 信用卡",  # words typed apart
        "支付宝账单 信用卡账单",  # two runs of several words typed apart: nothing to hold together as one
        '"支付宝账单"',  # a quoted phrase already asks for the run together
    ],
)
def test_queries_without_a_run_of_several_words_keep_their_order(db, query):
    together = db.execute("SELECT (aio.search_plan(%s)).together IS NOT NULL", (query,)).fetchone()[0]
    assert not together, query
    assert all(rank < 1000 for rank in ranks(db, query).values()), query
