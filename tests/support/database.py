"""Databases for the PostgreSQL tiers and the benchmarks: the one place a database is created and Immich's
tables are put in it, and the aio migrations run as the sidecar's CLI runs them."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .pgcluster import PgCluster, extension_available

IMMICH_SCHEMA = Path(__file__).with_name("immich_schema.sql")  # Immich's tables that aio touches, as DDL

ZHPARSER_SKIP = (
    "zhparser tier SKIPPED: the zhparser extension is not installed in PostgreSQL 15 "
    "(scripts/install_zhparser.sh builds it from AIO_UPSTREAM_ARCHIVES or a network clone; or use "
    "Dockerfile.postgres); only the degraded-mode tests ran"
)


def zhparser_available() -> bool:
    return extension_available("zhparser")


def fresh_database(
    cluster: PgCluster, name: str, schema: str | None = "immich", immich_build: Path | None = None
) -> str:
    """A new database on `cluster` (any earlier one of that name is dropped); returns its URL.

    It holds Immich's tables: with `immich_build`, as that native build's own migrations create them
    (tests/support/immich_native.py); else with schema="immich", as tests/support/immich_schema.sql declares
    them; with schema=None it stays empty. `name` is made a valid database name (lower case, 63 bytes)."""
    import psycopg

    url = cluster.create_database(re.sub(r"[^a-z0-9]+", "_", name.lower())[:63])
    if immich_build is not None:
        from .immich_native import immich_migrate

        immich_migrate(immich_build, url)
    elif schema == "immich":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(IMMICH_SCHEMA.read_text())
    elif schema is not None:
        raise ValueError(f"unknown schema {schema!r}: 'immich' or None")
    return url


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from sidecar.db import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(url: str, action: str, revision: str | None = None, mode: str | None = None) -> int:
    """`python -m sidecar db <action> [revision]` against `url`, with AIO_SEARCH_MODE set to `mode` (unset
    when None) for the call only; returns its exit status."""
    from sidecar.db import run_db_command

    saved = os.environ.get("AIO_SEARCH_MODE")
    try:
        if mode:
            os.environ["AIO_SEARCH_MODE"] = mode
        else:
            os.environ.pop("AIO_SEARCH_MODE", None)
        return run_db_command(action, revision, url=url.replace("postgresql://", "postgresql+psycopg://", 1))
    finally:
        if saved is None:
            os.environ.pop("AIO_SEARCH_MODE", None)
        else:
            os.environ["AIO_SEARCH_MODE"] = saved
