"""Revision 0008: why a photo matched, as data. The matched lines with the ranges of characters that matched
(aio.ocr_matches), the matched OCR boxes of a photo (aio.ocr_box_matches), and aio.ocr_snippet escaped: OCR text
is untrusted input and comes back as plain text, never as markup."""

import psycopg
import pytest

from .support.aio_helpers import asset_id, insert_ocr
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

PAYLOADS = [
    "<img src=x onerror=alert(1)> 发票",
    '<script>alert("发票")</script>',
    "发票 \"'><svg/onload=alert(1)>",
    "发票 &lt;b&gt; &amp; <b>x</b>",
    "发票\ue000<i>\ue001",
]


@pytest.fixture()
def db(immich_db):
    assert migrate(immich_db, "upgrade") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        yield conn


def matches(conn, names, query, max_lines=2):
    rows = conn.execute(
        "SELECT asset_id, line, text, ranges FROM aio.ocr_matches(%s::uuid[], %s, %s)",
        ([asset_id(name) for name in names], query, max_lines),
    ).fetchall()
    return [(line, text, [tuple(r) for r in ranges]) for _, line, text, ranges in rows]


def spans(text, ranges):
    return [text[start:end] for start, end in ranges]


def boxes(conn, name, query):
    return conn.execute(
        "SELECT b.text, b.ranges FROM aio.ocr_box_matches(%s, %s) b", (asset_id(name), query)
    ).fetchall()


def snippet(conn, name, query):
    return conn.execute(
        "SELECT aio.ocr_snippet(body, aio.ocr_query(%s)) FROM aio.ocr_document WHERE asset_id = %s",
        (query, asset_id(name)),
    ).fetchone()[0]


def test_payloads_come_back_as_plain_text_and_escaped_html(db):
    for index, payload in enumerate(PAYLOADS):
        insert_ocr(db, f"payload{index}", ["第一行", payload])
        [(line, text, ranges)] = matches(db, [f"payload{index}"], "发票")
        assert (line, text) == (2, payload), "the line as the photo has it, byte for byte"
        assert spans(text, ranges) == ["发票"]
        html = snippet(db, f"payload{index}", "发票")
        assert html.replace("<b>", "").replace("</b>", "").count("<") == 0, html
        assert html.count(">") == 2, html
        assert "<b>发票</b>" in html
    assert snippet(db, "payload0", "发票") == "&lt;img src=x onerror=alert(1)&gt; <b>发票</b>"
    assert snippet(db, "payload2", "发票") == "<b>发票</b> &quot;&#39;&gt;&lt;svg/onload=alert(1)&gt;"
    assert snippet(db, "payload3", "发票") == "<b>发票</b> &amp;lt;b&amp;gt; &amp;amp; &lt;b&gt;x&lt;/b&gt;"
    # the payload's own words match as plain text, never as markup
    [(_, text, ranges)] = matches(db, ["payload1"], "script")
    assert spans(text, ranges) == ["script", "script"]
    assert snippet(db, "payload1", "script") == "&lt;/<b>script</b>&gt;".join(
        ["&lt;<b>script</b>&gt;alert(&quot;发票&quot;)", ""]
    )


def test_traditional_lines_are_marked_where_the_simplified_query_matched(db):
    insert_ocr(db, "library", ["臺北市立圖書館", "開放時間 09:00", "圖書館 閱覽室"])
    rows = matches(db, ["library"], "图书馆")
    assert [(line, spans(text, ranges)) for line, text, ranges in rows] == [(1, ["圖書館"]), (3, ["圖書館"])]
    assert rows[0][2] == [(4, 7)]
    assert [spans(t, r) for t, r in boxes(db, "library", "图书馆")] == [
        ["圖書館"],
        ["圖書館"],
    ]
    assert snippet(db, "library", "图书馆") == "臺北市立<b>圖書館</b> … <b>圖書館</b> 閱覽室"
    assert matches(db, ["library"], "图书馆", max_lines=1) == rows[:1]


def test_full_width_and_case_are_marked_on_the_original(db):
    insert_ocr(db, "wifi", ["ＷｉＦｉ 密碼：ＡＢＣ１２３４"])
    [(_, text, ranges)] = matches(db, ["wifi"], "wifi 密码")
    assert spans(text, ranges) == ["ＷｉＦｉ", "密碼"]


def test_codes_are_marked_with_their_separators(db):
    insert_ocr(db, "plate", ["车牌 粤B·88888 停车", "电话 138 1234 5678"])
    [(_, text, ranges)] = matches(db, ["plate"], "b88888")
    assert spans(text, ranges) == ["B·88888"]
    [(_, text, ranges)] = matches(db, ["plate"], "13812345678")
    assert spans(text, ranges) == ["138 1234 5678"]


def test_nothing_to_look_for_matches_nothing_without_an_error(db):
    insert_ocr(db, "receipt", ["增值税发票", "金额 ¥8,888.00"])
    for query in ["", "   ", "，。！？", "!!!", "\"'\\", "()[]{}", "-发票", "OR"]:
        assert matches(db, ["receipt"], query) == [], query
        assert boxes(db, "receipt", query) == [], query


@pytest.mark.parametrize(
    "query",
    [
        '"发票',
        '发票"',
        "发票\\",
        "\\发票\\\\",
        "'发票'",
        "发票.*",
        "(发票)|.+",
        "[发票]{2,}",
        "发票$^",
        "a+b? 发票",
        "发票 ' OR 1=1 --",
        "发票 \ue000 \ue001",
    ],
)
def test_quotes_backslashes_and_pattern_characters_are_plain_text(db, query):
    insert_ocr(db, "receipt", ["增值税发票", "a+b? .*"])
    insert_ocr(db, "other", ["火车票"])
    rows = matches(db, ["receipt", "other"], query)
    assert all(text for _, text, _ in rows)
    assert [spans(text, ranges) for line, text, ranges in rows if line == 1] in ([["发票"]], [])
    assert [text for text, _ in boxes(db, "other", query)] == []


def test_matched_boxes_are_those_holding_the_query_and_visible(db):
    insert_ocr(db, "station", ["上海南站", "出租车上客点", "南站 出口"])
    assert sorted(text for text, _ in boxes(db, "station", "南站")) == ["上海南站", "南站 出口"]
    assert boxes(db, "station", "火车票") == [], "a photo that does not match lights nothing"
    assert boxes(db, "station", "南站 -出租车") == [], "nor one the query excludes"
    # Immich v3 hides the boxes of an edited photo ("isVisible" false): they never match
    db.execute('ALTER TABLE asset_ocr ADD COLUMN "isVisible" boolean NOT NULL DEFAULT true')
    db.execute("""UPDATE asset_ocr SET "isVisible" = false WHERE text = '上海南站'""")
    assert [text for text, _ in boxes(db, "station", "南站")] == ["南站 出口"]
    ids = db.execute(
        """SELECT id FROM asset_ocr WHERE "assetId" = %s AND text = '南站 出口'""", (asset_id("station"),)
    ).fetchall()
    assert [
        row[0] for row in db.execute("SELECT box_id FROM aio.ocr_box_matches(%s, '南站')", (asset_id("station"),))
    ] == [ids[0][0]]


def test_only_photos_whose_document_matches_have_lines(db):
    insert_ocr(db, "both", ["发票 收据"])
    insert_ocr(db, "one", ["发票"])
    rows = db.execute(
        "SELECT asset_id FROM aio.ocr_matches(%s::uuid[], '发票 收据')", ([asset_id("both"), asset_id("one")],)
    ).fetchall()
    assert [row[0] for row in rows] == [asset_id("both")]


def test_downgrade_restores_the_snippet_of_0004(db, immich_db):
    before = db.execute("SELECT pg_get_functiondef('aio.ocr_snippet(text, tsquery)'::regprocedure)").fetchone()[0]
    assert migrate(immich_db, "downgrade", "0007_or_by_best_word") == 0
    restored = db.execute("SELECT pg_get_functiondef('aio.ocr_snippet(text, tsquery)'::regprocedure)").fetchone()[0]
    assert "transfer_marks" in restored and restored != before
    assert db.execute("SELECT to_regprocedure('aio.ocr_box_matches(uuid, text)')").fetchone()[0] is None
    assert migrate(immich_db, "upgrade") == 0
