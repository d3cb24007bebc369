"""The aio schema on top of Immich's tables as Immich v2.4.1's own migrations create them.

Runs Immich's migration runner (`node server/dist/bin/migrations.js run`) from a native build of the
Immich source (scripts/immich_build.sh); skips loudly when that source is not on this machine. It also
checks that tests/support/immich_schema.sql, the DDL the other tiers use, is faithful to the real tables."""

import uuid

import psycopg
import pytest

from .support.database import migrate, zhparser_available
from .support.immich_native import add_asset
from .test_aio_schema import IMMICH_CATALOG

pytestmark = [pytest.mark.postgres, pytest.mark.immich]

MODE = "zhparser" if zhparser_available() else "degraded"


@pytest.fixture()
def real_immich_db(new_database, immich_server, request):
    return new_database("r_" + request.node.name[:50], immich_build=immich_server)


def found(conn, query: str) -> set[uuid.UUID]:
    rows = conn.execute("SELECT d.asset_id FROM aio.ocr_document d WHERE d.tsv @@ aio.ocr_query(%s)", (query,))
    return {row[0] for row in rows}


def test_cycle_on_immich_migrated_database(real_immich_db):
    with psycopg.connect(real_immich_db, autocommit=True) as conn:
        invoice = add_asset(conn, ["上海增值税电子普通发票", "金额 128.00"])
        before = conn.execute(IMMICH_CATALOG).fetchone()[0]

        assert migrate(real_immich_db, "upgrade", "head", mode=MODE) == 0
        assert found(conn, "发票") == {invoice}  # back-filled from the existing OCR rows
        sign = add_asset(conn, ["世纪公园 东门"])
        assert found(conn, "公园") == {sign}  # kept in sync by the triggers on Immich's real table

        assert migrate(real_immich_db, "downgrade", "base") == 0
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'aio'::regnamespace "
            "AND relname NOT LIKE 'alembic_version%'"
        ).fetchone()[0]
        assert left == 0  # only Alembic's bookkeeping stays
        conn.execute("DELETE FROM asset WHERE id = %s", (sign,))
        assert conn.execute(IMMICH_CATALOG).fetchone()[0] == before

        assert migrate(real_immich_db, "upgrade", "head", mode=MODE) == 0
        assert found(conn, "发票") == {invoice}


def test_immich_deletes_and_truncates(real_immich_db):
    assert migrate(real_immich_db, "upgrade", "head", mode=MODE) == 0
    with psycopg.connect(real_immich_db, autocommit=True) as conn:
        first, second = add_asset(conn, ["门诊收费票据"]), add_asset(conn, ["火车票 G1234"])
        conn.execute("DELETE FROM asset WHERE id = %s", (first,))  # how Immich removes an asset
        assert conn.execute("SELECT array_agg(asset_id) FROM aio.ocr_document").fetchone()[0] == [second]
        conn.execute("TRUNCATE asset_ocr")  # what Immich does on "run all" OCR
        assert conn.execute("SELECT count(*) FROM aio.ocr_document").fetchone()[0] == 0


COLUMNS = (
    "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
    "WHERE table_schema = 'public' AND table_name IN ('asset', 'asset_ocr', 'ocr_search')"
)
INDEXES = (
    "SELECT indexname, indexdef FROM pg_indexes "
    "WHERE schemaname = 'public' AND tablename IN ('asset_ocr', 'ocr_search')"
)
CONSTRAINTS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
    "AND conrelid::regclass::text IN ('asset_ocr', 'ocr_search')"
)


def test_minimal_ddl_matches_immich(real_immich_db, new_database):
    """tests/support/immich_schema.sql (used where the Immich source is absent) agrees with the real tables."""
    minimal = new_database("minimal_ddl")
    with psycopg.connect(minimal, autocommit=True) as conn:
        ours = {tuple(row[:2]): row[2:] for row in conn.execute(COLUMNS)}
        our_indexes, our_constraints = (
            dict(conn.execute(INDEXES).fetchall()),
            dict(conn.execute(CONSTRAINTS).fetchall()),
        )
    with psycopg.connect(real_immich_db, autocommit=True) as conn:
        real = {tuple(row[:2]): row[2:] for row in conn.execute(COLUMNS)}
        real_indexes, real_constraints = (
            dict(conn.execute(INDEXES).fetchall()),
            dict(conn.execute(CONSTRAINTS).fetchall()),
        )
        unaccent = conn.execute("SELECT pg_get_functiondef('f_unaccent(text)'::regprocedure)").fetchone()[0]
    # asset keeps only some of its columns (their defaults differ on purpose); OCR tables are whole.
    for key, shape in ours.items():
        assert real.get(key) == shape, key
    assert {key for key in real if key[0] != "asset"} == {key for key in ours if key[0] != "asset"}
    assert our_indexes == real_indexes
    assert our_constraints == real_constraints
    assert "unaccent('unaccent'" in unaccent and "IMMUTABLE" in unaccent
