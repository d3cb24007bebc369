"""The aio migrations on a real PostgreSQL 15: cycle, Immich untouched, triggers, back-fill, modes."""

import psycopg
import pytest

from .support.aio_helpers import asset_id, insert_ocr, search_aio
from .support.database import ZHPARSER_SKIP, head_revision, migrate, zhparser_available

pytestmark = pytest.mark.postgres

MODES = [pytest.param("zhparser", marks=pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP)), "degraded"]

IMMICH_CATALOG = """
SELECT string_agg(item, E'\\n' ORDER BY item) FROM (
  SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '
         || coalesce(column_default, '')
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'rows asset_ocr ' || md5(string_agg(text || id::text, ',' ORDER BY id)) FROM asset_ocr
  UNION ALL SELECT 'rows ocr_search ' || md5(string_agg(text, ',' ORDER BY "assetId")) FROM ocr_search
) catalog(item)
"""


def connect(url):
    return psycopg.connect(url, autocommit=True)


def documents(conn):
    return dict(conn.execute("SELECT asset_id, body FROM aio.ocr_document").fetchall())


@pytest.mark.parametrize("mode", MODES)
def test_cycle_leaves_immich_untouched(immich_db, mode):
    with connect(immich_db) as conn:
        insert_ocr(conn, "a", ["复旦大学附属华山医院", "门诊收费票据"])
        before = conn.execute(IMMICH_CATALOG).fetchone()[0]
    assert migrate(immich_db, "upgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        assert conn.execute("SELECT value FROM aio.install WHERE key = 'mode'").fetchone()[0] == mode
        assert conn.execute("SELECT version_num FROM aio.alembic_version").fetchone()[0] == head_revision()
    assert migrate(immich_db, "downgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        assert conn.execute(IMMICH_CATALOG).fetchone()[0] == before
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'aio'::regnamespace "
            "AND relname NOT LIKE 'alembic_version%'"
        ).fetchone()[0]
        functions = conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'aio'::regnamespace").fetchone()[0]
        assert (left, functions) == (0, 0)
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'zhparser'").fetchone()[0] == 0
    assert migrate(immich_db, "upgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        assert len(documents(conn)) == 1, "the second upgrade back-fills again"


def test_refuses_without_immich_tables(new_database, capsys):
    url = new_database("empty", schema=None)
    assert migrate(url, "upgrade", mode="degraded") == 1
    assert "Immich's tables asset, asset_ocr are missing" in capsys.readouterr().err
    with connect(url) as conn:
        assert conn.execute("SELECT to_regclass('aio.install')").fetchone()[0] is None


@pytest.mark.ci_may_skip
@pytest.mark.skipif(zhparser_available(), reason="zhparser is installed here: the refusal path needs it absent")
def test_refuses_without_zhparser_unless_degraded_is_chosen(immich_db, capsys):
    assert migrate(immich_db, "upgrade") == 1
    assert "Dockerfile.postgres" in capsys.readouterr().err


@pytest.mark.parametrize("mode", MODES)
def test_backfill_of_an_existing_library(immich_db, mode):
    with connect(immich_db) as conn:
        for index in range(30):
            insert_ocr(conn, f"old-{index}", [f"第{index}号 发票", "上海市"])
    assert migrate(immich_db, "upgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        docs = documents(conn)
        assert len(docs) == 30
        assert docs[asset_id("old-7")] == "第7号 发票\n上海市"
        assert len(search_aio(conn, "发票", 100)) == 30


@pytest.mark.parametrize("mode", MODES)
def test_triggers_follow_every_change(immich_db, mode):
    assert migrate(immich_db, "upgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        a = insert_ocr(conn, "a", ["上海南站", "出租车上客点"])
        b = insert_ocr(conn, "b", ["世纪公园"])
        assert documents(conn) == {a: "上海南站\n出租车上客点", b: "世纪公园"}

        conn.execute("UPDATE asset_ocr SET text = '中山公园' WHERE \"assetId\" = %s", (b,))
        assert documents(conn)[b] == "中山公园"
        assert search_aio(conn, "中山公园") == [b] and search_aio(conn, "世纪公园") == []

        # Immich's re-run of OCR for one asset: delete its boxes, insert new ones, in one statement.
        conn.execute(
            'WITH gone AS (DELETE FROM asset_ocr WHERE "assetId" = %s) '
            'INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) '
            "VALUES (%s, 0, 0, 1, 0, 1, 0.1, 0, 0.1, 0.9, 0.9, '虹桥站')",
            (a, a),
        )
        assert documents(conn)[a] == "虹桥站"

        conn.execute('DELETE FROM asset_ocr WHERE "assetId" = %s', (a,))
        assert a not in documents(conn), "no boxes left, no document"

        conn.execute("DELETE FROM asset WHERE id = %s", (b,))
        assert documents(conn) == {}, "deleting the asset removes its document"

        insert_ocr(conn, "c", ["发票"])
        conn.execute("TRUNCATE asset_ocr, ocr_search")  # what Immich does when OCR is re-run for everything
        assert documents(conn) == {}


@pytest.mark.parametrize("mode", MODES)
def test_bulk_load(immich_db, mode):
    assert migrate(immich_db, "upgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        conn.execute("INSERT INTO asset (id) SELECT md5(i::text)::uuid FROM generate_series(1, 2000) i")
        conn.execute("""INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
                        SELECT md5(i::text)::uuid, 0, j * 0.1, 1, j * 0.1, 1, j * 0.1 + 0.05, 0, j * 0.1 + 0.05,
                               0.9, 0.9,
                               CASE WHEN j = 1 THEN '第' || i || '张发票' ELSE '上海市徐汇区' END
                        FROM generate_series(1, 2000) i, generate_series(1, 2) j""")
        assert conn.execute("SELECT count(*) FROM aio.ocr_document").fetchone()[0] == 2000
        body = conn.execute("SELECT body FROM aio.ocr_document WHERE asset_id = md5('42')::uuid").fetchone()[0]
        assert body == "第42张发票\n上海市徐汇区"


@pytest.mark.parametrize("mode", MODES)
def test_chinese_substrings_are_found_in_every_mode(immich_db, mode):
    assert migrate(immich_db, "upgrade", mode=mode) == 0
    with connect(immich_db) as conn:
        a = insert_ocr(conn, "a", ["复旦大学附属华山医院"])
        b = insert_ocr(conn, "b", ["世纪公园 Century Park"])
        assert search_aio(conn, "医院") == [a]
        assert search_aio(conn, "公园") == [b]
        assert search_aio(conn, "century") == [b]
        assert search_aio(conn, "") == [] and search_aio(conn, "！？") == []


def test_rrf_fusion(immich_db):
    assert migrate(immich_db, "upgrade", mode="degraded") == 0
    ids = [asset_id(name) for name in "abcd"]
    a, b, c, d = ids
    with connect(immich_db) as conn:
        rows = conn.execute("SELECT asset_id, clip_rank, ocr_rank FROM aio.rrf(%s, %s)", ([a, b, c], [c, d])).fetchall()
        assert [row[0] for row in rows][0] == c, "in both lists beats first in one"
        assert {row[0]: (row[1], row[2]) for row in rows} == {a: (1, None), b: (2, None), c: (3, 1), d: (None, 2)}
        ocr_heavy = conn.execute("SELECT asset_id FROM aio.rrf(%s, %s, 1, 5)", ([a, b], [d])).fetchall()
        assert ocr_heavy[0][0] == d, "the OCR weight lifts the OCR list"
        assert conn.execute("SELECT count(*) FROM aio.rrf('{}', '{}')").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM aio.rrf(%s, %s)", ([a, a, b], [])).fetchone()[0] == 2
