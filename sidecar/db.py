"""`immich-sidecar db`: run the aio schema's Alembic migrations against Immich's database, and check (and repair)
aio's OCR documents and word lists against Immich's asset_ocr."""

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

    url = url or database_url()
    try:
        config = alembic_config(url)
        if action == "upgrade":
            command.upgrade(config, revision or "head")
            return check_build(url)
        elif action == "downgrade":
            command.downgrade(config, revision or "base")
            return check_build(url)
        else:
            command.current(config, verbose=False)
            command.heads(config)
    except Exception as error:  # noqa: BLE001 - one clear line for the operator instead of a traceback
        message = str(getattr(error, "orig", None) or error).strip()
        print(f"immich-sidecar db {action}: {message}", file=sys.stderr)
        return 1
    return 0


def _connect(url: str | None):
    import psycopg

    return psycopg.connect(
        (url or database_url()).replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
    )


def check_ocr(url: str | None = None, repair: bool = False, batch: int | None = None, out=None) -> int:
    """`db check [--repair]`: whether aio's OCR documents and word lists agree with Immich's asset_ocr
    (aio.check_ocr); with repair, the photos that differ rebuilt (aio.repair_ocr), one committed batch at a time,
    and this build recorded as the index's (aio.ocr_build). Exit status 0 when they agree (after the repair), 1
    when they do not, 2 when the check cannot run."""
    import psycopg

    out = out or sys.stdout
    batch = batch or int(os.environ.get("AIO_REBUILD_BATCH", "2000"))
    try:
        with _connect(url) as conn:
            found = conn.execute("SELECT asset_id, part, problem FROM aio.check_ocr()").fetchall()
            ids = sorted({row[0] for row in found}, key=str)
            if not ids:
                print("aio: the OCR documents and word lists agree with asset_ocr", file=out)
                if repair:
                    _record_build(conn)
                return 0
            counts: dict[tuple[str, str], int] = {}
            for _, part, problem in found:
                counts[part, problem] = counts.get((part, problem), 0) + 1
            for (part, problem), count in sorted(counts.items()):
                print(f"aio: {part} {problem}: {count} photos", file=out)
            if not repair:
                print(f"aio: {len(ids)} photos differ; `immich-sidecar db check --repair` rebuilds them", file=out)
                return 1
            for start in range(0, len(ids), batch):
                conn.execute("SELECT aio.repair_ocr(%s::uuid[])", (ids[start : start + batch],))
                print(f"aio: photos rebuilt: {min(start + batch, len(ids))}/{len(ids)}", file=out, flush=True)
            conn.execute("VACUUM (ANALYZE) aio.ocr_word")
            left = conn.execute("SELECT count(DISTINCT asset_id) FROM aio.check_ocr()").fetchone()[0]
            print(f"aio: after the repair, {left} photos differ", file=out)
            if left:
                return 1
            _record_build(conn)
            return 0
    except psycopg.Error as error:
        print(f"immich-sidecar db check: {str(error).strip()}", file=sys.stderr)
        return 2


def _record_build(conn) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM aio.ocr_build")
        conn.execute("INSERT INTO aio.ocr_build (fingerprint) VALUES (aio.ocr_build_fingerprint())")


def check_build(url: str | None = None, out=None) -> int:
    """After `db upgrade` or `db downgrade`: where this database's search index was made by another build (restored
    from a backup into another database image or architecture), by another revision's searchable form, or no build
    is recorded yet, check every photo and rebuild those that differ (`check_ocr(repair=True)`). Nothing to do at a
    revision without aio.ocr_build."""
    import psycopg

    out = out or sys.stdout
    try:
        with _connect(url) as conn:
            if conn.execute("SELECT to_regclass('aio.ocr_build')").fetchone()[0] is None:
                return 0
            recorded = conn.execute("SELECT fingerprint FROM aio.ocr_build").fetchone()
            current = conn.execute("SELECT aio.ocr_build_fingerprint()").fetchone()[0]
    except psycopg.Error as error:
        print(f"immich-sidecar db upgrade: {str(error).strip()}", file=sys.stderr)
        return 2
    if recorded and recorded[0] == current:
        return 0
    reason = "no build is recorded for it" if recorded is None else "it was made by another build or revision"
    print(f"aio: checking the OCR search index against asset_ocr: {reason}", file=out, flush=True)
    return check_ocr(url, repair=True, out=out)
