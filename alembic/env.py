"""Alembic environment for the aio schema: Immich's database settings, version table inside `aio`."""

from sqlalchemy import create_engine, text

from alembic import context
from sidecar.db import database_url

SCHEMA = "aio"


def run_migrations_online() -> None:
    engine = create_engine(context.config.attributes.get("url") or database_url())
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
