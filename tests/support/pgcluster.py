"""A throwaway PostgreSQL 15 cluster for tests and benchmarks: initdb in a temp dir, UTF-8 locale
(pg_trgm treats CJK as word characters only under one), Unix socket only, stopped afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("AIO_PG_BIN", "/usr/lib/postgresql/15/bin"))
SHARE = Path("/usr/share/postgresql/15")


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: drop to the postgres user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def missing_reason() -> str | None:
    if not (PG_BIN / "initdb").is_file():
        return f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15)"
    return None


def extension_available(name: str) -> bool:
    return (SHARE / "extension" / f"{name}.control").is_file()


class PgCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="aio-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.port = 5432
        self.log = self.root / "postgres.log"

    def start(self) -> PgCluster:
        self.socket.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket, "postgres")
            os.chmod(self.root, 0o755)
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-k {self.socket} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}&port={self.port}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
