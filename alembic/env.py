"""Alembic environment for the aio schema: the version table inside `aio`.

The database URL comes from `immich-sidecar db` (sidecar/db.py reads Immich's own DB_* variables and hands it
over in config.attributes["url"]), or, when Alembic is run by hand, from `-x url=postgresql+psycopg://...`.
The migrations themselves import nothing from the sidecar package.
"""

from sqlalchemy import create_engine, text

from alembic import context

SCHEMA = "aio"


def _url() -> str:
    url = context.config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit(
            "no database given: run `immich-sidecar db upgrade` (Immich's DB_URL or DB_HOSTNAME, DB_PORT, "
            "DB_USERNAME, DB_PASSWORD, DB_DATABASE_NAME), or alembic -x url=postgresql+psycopg://..."
        )
    return url


def run_migrations_online() -> None:
    engine = create_engine(_url())
    with engine.connect() as connection:
        # The version table lives in aio, away from Immich's own migration bookkeeping.
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        connection.commit()
        context.configure(connection=connection, version_table_schema=SCHEMA, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: the migrations inspect the database")
run_migrations_online()
