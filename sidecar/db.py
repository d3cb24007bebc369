"""`immich-sidecar db`: run the aio schema's Alembic migrations against Immich's database."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]


def database_url(env: Mapping[str, str] | None = None) -> str:
    """Immich's own database variables, as SQLAlchemy wants them (psycopg 3 driver)."""
    env = os.environ if env is None else env
    url = env.get("DB_URL")
    if url:
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        raise ValueError(f"DB_URL must start with postgresql:// or postgres://, got {url.split(':', 1)[0]}://...")
    user = quote(env.get("DB_USERNAME", "postgres"), safe="")
    password = quote(env.get("DB_PASSWORD", "postgres"), safe="")
    host = env.get("DB_HOSTNAME", "database")
    port = env.get("DB_PORT", "5432")
    name = env.get("DB_DATABASE_NAME", "immich")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{name}"


def alembic_config(url: str | None = None):
    """The migrations' Alembic configuration (alembic.ini of the checkout, or AIO_ALEMBIC_INI where the package is
    installed apart from them, as in Dockerfile.sidecar), with the database URL for alembic/env.py."""
    from alembic.config import Config

    config = Config(str(Path(os.environ.get("AIO_ALEMBIC_INI", ROOT / "alembic.ini"))))
    if url:
        config.attributes["url"] = url
    return config


def run_db_command(action: str, revision: str | None = None, url: str | None = None) -> int:
    from alembic import command

    try:
        config = alembic_config(url or database_url())
        if action == "upgrade":
            command.upgrade(config, revision or "head")
        elif action == "downgrade":
            command.downgrade(config, revision or "base")
        else:
            command.current(config, verbose=False)
            command.heads(config)
    except Exception as error:  # noqa: BLE001 - one clear line for the operator instead of a traceback
        message = str(getattr(error, "orig", None) or error).strip()
        print(f"immich-sidecar db {action}: {message}", file=sys.stderr)
        return 1
    return 0
