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
    from alembic.config import Config

    config = Config(str(Path(os.environ.get("AIO_ALEMBIC_INI", ROOT / "alembic.ini"))))
    if url:
        config.attributes["url"] = url
    return config


def earlier_revision(path: Path):
    """An earlier Alembic revision's module, for the definitions a later downgrade restores (revision files
    are not importable by name: they start with a digit)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"aio_revision_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_db_command(action: str, revision: str | None = None, url: str | None = None) -> int:
    from alembic import command

    config = alembic_config(url)
    try:
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
