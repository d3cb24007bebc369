"""The aio schema on Immich v3.1.0's own tables, as its migrations (run by its sql-tools) create them.

Immich v3 keeps the OCR boxes of an edited photo but hides them ("isVisible"), records deleted boxes
through its own statement trigger on asset_ocr, and checks the database against its schema with the
same tool that writes its migrations: aio must work beside all three and leave no drift behind."""

import uuid

import psycopg
import pytest

from .support.database import migrate, zhparser_available
from .support.immich_native import add_asset, build_immich, immich_schema_drift
from .test_aio_schema import IMMICH_CATALOG

pytestmark = [pytest.mark.postgres, pytest.mark.immich]

MODE = "zhparser" if zhparser_available() else "degraded"


@pytest.fixture(scope="module")
def immich_v3():
    work, reason = build_immich(version="3.1.0")
    if work is None:
        pytest.skip(f"Immich v3.1.0 tier SKIPPED: {reason}")
    return work


@pytest.fixture()
def v3_db(new_database, immich_v3, request):
    return new_database("r_v3_" + request.node.name[:50], immich_build=immich_v3)


def search(conn, query: str) -> list[uuid.UUID]:
    return [row[0] for row in conn.execute("SELECT asset_id FROM aio.ocr_search(%s) ORDER BY rank DESC", (query,))]


def test_aio_on_immich_v3_leaves_no_schema_drift_and_downgrades_cleanly(immich_v3, v3_db):
    assert immich_schema_drift(immich_v3, v3_db) == "", "Immich v3.1.0's own migrations leave no drift"
    with psycopg.connect(v3_db, autocommit=True) as conn:
        invoice = add_asset(conn, ["增值税电子普通发票", "金额 128.00"])
        before = conn.execute(IMMICH_CATALOG).fetchone()[0]
    assert migrate(v3_db, "upgrade", mode=MODE) == 0
    assert immich_schema_drift(immich_v3, v3_db) == "", "Immich's schema check finds nothing of aio's to change"
    with psycopg.connect(v3_db, autocommit=True) as conn:
        assert search(conn, "发票") == [invoice], "the back-fill found the existing OCR"
        assert search(conn, "發票") == [invoice]
    assert migrate(v3_db, "downgrade", mode=MODE) == 0
    with psycopg.connect(v3_db, autocommit=True) as conn:
        assert conn.execute(IMMICH_CATALOG).fetchone()[0] == before
    assert immich_schema_drift(immich_v3, v3_db) == ""


def test_the_drift_check_sees_a_foreign_trigger(immich_v3, v3_db):
    """The check above can fail: a trigger of public's own on asset_ocr is reported as drift."""
    with psycopg.connect(v3_db, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION public.probe() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
        conn.execute(
            "CREATE TRIGGER probe AFTER INSERT ON asset_ocr FOR EACH STATEMENT EXECUTE FUNCTION public.probe()"
        )
    assert 'DROP TRIGGER "probe" ON "asset_ocr"' in immich_schema_drift(immich_v3, v3_db)


def test_hidden_boxes_and_immichs_own_ocr_trigger(v3_db):
    assert migrate(v3_db, "upgrade", mode=MODE) == 0
    with psycopg.connect(v3_db, autocommit=True) as conn:
        photo = add_asset(conn, ["上海南站", "出租车上客点"])
        assert search(conn, "出租车") == [photo]
        # An edit hides the boxes: Immich sets "isVisible" to false.
        conn.execute("""UPDATE asset_ocr SET "isVisible" = false WHERE text = '出租车上客点'""")
        assert search(conn, "出租车") == [] and search(conn, "上海南站") == [photo]
        conn.execute("""UPDATE asset_ocr SET "isVisible" = true""")
        assert search(conn, "出租车") == [photo]
        # Re-running OCR deletes the boxes: Immich's audit trigger and aio's both see it.
        conn.execute('DELETE FROM asset_ocr WHERE "assetId" = %s', (photo,))
        assert conn.execute('SELECT count(*) FROM asset_ocr_audit WHERE "assetId" = %s', (photo,)).fetchone()[0] == 2
        assert search(conn, "上海南站") == []
        conn.execute("DELETE FROM asset WHERE id = %s", (photo,))
        assert conn.execute("SELECT count(*) FROM aio.ocr_document").fetchone()[0] == 0
