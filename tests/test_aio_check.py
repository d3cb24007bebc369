"""Revision 0009: word lists that never drift. A photo's rows go with it whatever their ranks; `db check` finds
where aio disagrees with Immich's asset_ocr and `db check --repair` mends it; `db upgrade` does both by itself
when the index was made by another build."""

import io

import psycopg
import pytest

from sidecar.cli import main as sidecar_main
from sidecar.db import check_build, check_ocr

from .support.aio_helpers import asset_id, load_corpus, search_aio
from .support.database import ZHPARSER_SKIP, migrate, zhparser_available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.zhparser,
    pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP),
]

CASES = {
    "zoo": ["上海野生动物园 门票"],
    "station": ["上海南站 出口"],
    "bill": ["支付宝账单"],
    "shop": ["ショップ 渋谷"],
    "code": ["运单号 SF1234567890"],
}
QUERIES = ("动物园", "账单", "上海", "门票", "ショップ", "发票", "SF1234567890", "出口")


@pytest.fixture()
def db(immich_db):
    assert migrate(immich_db, "upgrade") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        yield immich_db, conn


def behind_aios_back(conn, *statements) -> None:
    """Writes that aio's triggers do not see: as a restore into another build, or an edit by hand, leaves rows."""
    conn.execute("SET session_replication_role = replica")
    try:
        for statement, params in statements:
            conn.execute(statement, params)
    finally:
        conn.execute("SET session_replication_role = origin")


def drift(conn) -> None:
    zoo, station, bill, shop = (asset_id(n) for n in ("zoo", "station", "bill", "shop"))
    behind_aios_back(
        conn,
        ("UPDATE aio.ocr_word SET rank = rank * 0.999 WHERE asset_id = %s", (zoo,)),  # another build's floats
        ("DELETE FROM aio.ocr_word WHERE asset_id = %s AND word = '上海'", (station,)),
        ("INSERT INTO aio.ocr_word VALUES ('发票', %s, true, true, 0.5)", (bill,)),  # a word it does not hold
        ("DELETE FROM aio.ocr_document WHERE asset_id = %s", (shop,)),
        ('UPDATE asset_ocr SET text = %s WHERE "assetId" = %s', ("上海南站 入口", station)),
    )


def test_a_photos_rows_go_with_it_whatever_their_ranks(db):
    """Rows are deleted by asset: rows whose ranks are not what this build computes (another build's) still go,
    when the photo's text changes and when it is deleted."""
    _, conn = db
    zoo = asset_id("zoo")
    behind_aios_back(conn, ("UPDATE aio.ocr_word SET rank = rank + 1e-7 WHERE asset_id = %s", (zoo,)))
    conn.execute("UPDATE asset_ocr SET text = '北京' WHERE \"assetId\" = %s", (zoo,))
    assert zoo not in search_aio(conn, "动物园", 50) and zoo in search_aio(conn, "北京", 50)
    assert zoo not in search_aio(conn, "门票", 50)
    conn.execute('DELETE FROM asset_ocr WHERE "assetId" = %s', (zoo,))
    assert conn.execute("SELECT count(*) FROM aio.ocr_word WHERE asset_id = %s", (zoo,)).fetchone()[0] == 0


def test_one_row_per_photo_and_word(db):
    """A row left twice (as drift did) is reported and mended; a new document replaces any rows its photo still
    has."""
    url, conn = db
    bill = asset_id("bill")
    rows = "SELECT word, count(*) FROM aio.ocr_word WHERE asset_id = %s GROUP BY word HAVING count(*) > 1"
    copy = "INSERT INTO aio.ocr_word SELECT * FROM aio.ocr_word WHERE asset_id = %s AND word = '账单'"
    behind_aios_back(conn, (copy, (bill,)))
    assert conn.execute(rows, (bill,)).fetchall() == [("账单", 2)]
    out = io.StringIO()
    assert check_ocr(url, out=out) == 1 and "list duplicate: 1 photos" in out.getvalue(), out.getvalue()
    assert check_ocr(url, repair=True, out=io.StringIO()) == 0
    assert conn.execute(rows, (bill,)).fetchall() == []
    behind_aios_back(conn, (copy, (bill,)), ("DELETE FROM aio.ocr_document WHERE asset_id = %s", (bill,)))
    conn.execute("SELECT aio.refresh_ocr_documents(ARRAY[%s]::uuid[])", (bill,))  # a new document for the photo
    assert conn.execute(rows, (bill,)).fetchall() == []
    assert check_ocr(url, out=io.StringIO()) == 0


def test_check_finds_and_repair_mends_what_changed_behind_aios_back(db):
    url, conn = db
    out = io.StringIO()
    assert check_ocr(url, out=out) == 0, out.getvalue()
    assert "agree" in out.getvalue()
    before = {q: search_aio(conn, q, 50) for q in QUERIES}
    drift(conn)
    bill, station, shop = asset_id("bill"), asset_id("station"), asset_id("shop")
    assert bill in search_aio(conn, "发票", 50)  # the stale row: the photo matches a word it does not hold
    assert shop not in search_aio(conn, "ショップ", 50)
    out = io.StringIO()
    assert check_ocr(url, out=out) == 1
    report = out.getvalue()
    print(report)  # shown with `pytest -s`: what `immich-sidecar db check` says of such a library
    # bill: a word it does not hold; shop: rows left without their document
    for line in ("document differs: 1", "document missing: 1", "list differs: 1", "list stale: 2", "list missing: 1"):
        assert line in report, report
    assert "4 photos differ" in report, report
    out = io.StringIO()
    assert check_ocr(url, repair=True, batch=2, out=out) == 0, out.getvalue()
    print(out.getvalue())  # and what `db check --repair` says
    assert "photos rebuilt: 2/4" in out.getvalue() and "after the repair, 0 photos differ" in out.getvalue()
    after = {q: search_aio(conn, q, 50) for q in QUERIES}
    assert after.pop("出口") == [a for a in before.pop("出口") if a != station]
    assert after == before
    assert station in search_aio(conn, "入口", 50)
    assert check_ocr(url, out=io.StringIO()) == 0


def test_check_reports_photos_deleted_behind_aios_back(db):
    url, conn = db
    code = asset_id("code")
    behind_aios_back(conn, ('DELETE FROM asset_ocr WHERE "assetId" = %s', (code,)))
    out = io.StringIO()
    assert check_ocr(url, out=out) == 1 and "document stale: 1" in out.getvalue(), out.getvalue()
    assert code in search_aio(conn, "SF1234567890", 50)
    assert check_ocr(url, repair=True, out=io.StringIO()) == 0
    assert code not in search_aio(conn, "SF1234567890", 50)
    assert conn.execute("SELECT count(*) FROM aio.ocr_word WHERE asset_id = %s", (code,)).fetchone()[0] == 0


def test_upgrade_checks_the_index_once_and_again_after_a_move_to_another_build(db):
    url, conn = db
    recorded = "SELECT fingerprint FROM aio.ocr_build"
    fingerprint = conn.execute("SELECT aio.ocr_build_fingerprint()").fetchone()[0]
    assert conn.execute(recorded).fetchall() == [(fingerprint,)]  # the fixture's upgrade checked an empty library
    drift(conn)
    out = io.StringIO()
    assert check_build(url, out=out) == 0 and out.getvalue() == ""  # the same build: nothing is read
    assert asset_id("bill") in search_aio(conn, "发票", 50)
    # restored from a backup made on another build: its fingerprint came with the data
    conn.execute("UPDATE aio.ocr_build SET fingerprint = md5('another build')")
    assert migrate(url, "upgrade") == 0
    assert conn.execute(recorded).fetchall() == [(fingerprint,)]
    assert asset_id("bill") not in search_aio(conn, "发票", 50)
    assert asset_id("shop") in search_aio(conn, "ショップ", 50)
    assert check_ocr(url, out=io.StringIO()) == 0


def test_the_fingerprint_is_what_this_build_makes_of_fixed_lines(db):
    _, conn = db
    first = conn.execute("SELECT aio.ocr_build_fingerprint()").fetchone()[0]
    assert first == conn.execute("SELECT aio.ocr_build_fingerprint()").fetchone()[0]
    # a change in what the build makes of text (here the lists' ranks) changes it
    conn.execute("BEGIN")
    conn.execute(
        "CREATE OR REPLACE FUNCTION aio.ocr_rank(tsv tsvector, q tsquery) RETURNS real LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT ts_rank_cd('{0.01, 0.02, 0.4, 1.0}', tsv, q, 1) * 1.0000001::real $$"
    )
    assert conn.execute("SELECT aio.ocr_build_fingerprint()").fetchone()[0] != first
    conn.execute("ROLLBACK")


def test_upgrade_from_0008_keeps_one_row_per_photo_and_word(immich_db):
    """Drift from before 0009 (a photo's row left twice) does not stop the unique index: the upgrade rebuilds that
    photo's rows; the first `db upgrade` then checks every photo."""
    assert migrate(immich_db, "upgrade", "0008_match_ranges") == 0
    with psycopg.connect(immich_db, autocommit=True) as conn:
        load_corpus(conn, CASES)
        bill = asset_id("bill")
        behind_aios_back(
            conn,
            ("INSERT INTO aio.ocr_word SELECT * FROM aio.ocr_word WHERE asset_id = %s AND word = '账单'", (bill,)),
            ("UPDATE aio.ocr_word SET rank = rank * 0.5 WHERE asset_id = %s AND word = '支付宝'", (bill,)),
        )
        assert migrate(immich_db, "upgrade") == 0
        rows = conn.execute("SELECT word, count(*) FROM aio.ocr_word WHERE asset_id = %s GROUP BY 1", (bill,))
        assert all(count == 1 for _, count in rows.fetchall())
        assert check_ocr(immich_db, out=io.StringIO()) == 0
        assert migrate(immich_db, "downgrade", "0008_match_ranges") == 0
        assert conn.execute("SELECT to_regclass('aio.ocr_build')").fetchone()[0] is None
        assert search_aio(conn, "支付宝账单", 5)[0] == bill


def test_db_check_command(db, monkeypatch, capsys):
    url, conn = db
    monkeypatch.setenv("DB_URL", url)
    assert sidecar_main(["db", "check"]) == 0
    drift(conn)
    assert sidecar_main(["db", "check"]) == 1
    assert "db check --repair" in capsys.readouterr().out
    assert sidecar_main(["db", "check", "--repair"]) == 0
    assert "after the repair, 0 photos differ" in capsys.readouterr().out
    monkeypatch.setenv("DB_URL", url.rsplit("/", 1)[0] + "/no_such_database")
    assert sidecar_main(["db", "check"]) == 2
    assert "no_such_database" in capsys.readouterr().err
