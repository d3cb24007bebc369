"""Immich built natively from its source (scripts/immich_build.sh), for the tiers that need it."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_SOURCE = 3  # scripts/immich_build.sh: no Immich source on this machine


def toolchain_path() -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "immich-all-in-one"
    return f"{cache / 'toolchain' / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"


def _build_script(flags: tuple[str, ...], version: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / "immich_build.sh"), *flags],
        capture_output=True,
        text=True,
        env=dict(os.environ, IMMICH_VERSION=version),
    )


def pristine_source(version: str = "2.4.1") -> tuple[Path | None, str]:
    """(pristine Immich tree, "") once there is one (made from the release archive or a clone on first use);
    (None, reason) when this machine has no way to get it."""
    result = _build_script(("--print-source",), version)
    if result.returncode == NO_SOURCE:
        return None, result.stderr.strip()
    if result.returncode != 0:
        raise RuntimeError(f"scripts/immich_build.sh --print-source failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1]), ""


def build_immich(*flags: str, version: str = "2.4.1") -> tuple[Path | None, str]:
    """(working copy, "") once built; (None, reason) when there is no source; raises on a failed build."""
    result = _build_script(("--print-dir", *flags), version)
    if result.returncode == NO_SOURCE:
        return None, result.stderr.strip()
    if result.returncode != 0:
        raise RuntimeError(f"scripts/immich_build.sh {' '.join(flags)} (v{version}) failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1]), ""


def immich_migrate(work: Path, database_url: str) -> None:
    """Immich's own migrations, run by Immich's own runner, as its server does at start (Immich 2:
    dist/bin/migrations.js; Immich 3: its sql-tools)."""
    env = dict(os.environ, DB_URL=database_url, DB_VECTOR_EXTENSION="pgvector", PATH=toolchain_path())
    if (work / "server" / "dist" / "bin" / "migrations.js").is_file():
        command = ["node", "dist/bin/migrations.js", "run"]
    else:
        command = [
            str(work / "server" / "node_modules" / ".bin" / "sql-tools"),
            "-u",
            database_url,
            "migrations",
            "run",
        ]
    result = subprocess.run(command, cwd=work / "server", env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or "Migrations failed" in result.stdout + result.stderr:
        raise RuntimeError(f"Immich's migrations failed:\n{(result.stdout + result.stderr)[-4000:]}")


def immich_schema_drift(work: Path, database_url: str) -> str:
    """What Immich 3's schema tooling would change in this database to match Immich's own schema: "" when it
    reports no drift, else the migration it writes."""
    sql_tools = work / "server" / "node_modules" / ".bin" / "sql-tools"
    with tempfile.TemporaryDirectory(dir=work / "server") as scratch:
        # sql-tools joins the path it is given to the working directory, absolute or not
        result = subprocess.run(
            [str(sql_tools), "-u", database_url, "migrations", "generate", f"{Path(scratch).name}/drift"],
            cwd=work / "server",
            env=dict(os.environ, PATH=toolchain_path()),
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"sql-tools migrations generate failed:\n{output[-4000:]}")
        written = sorted(Path(scratch).rglob("*.ts"))
        if "No changes detected" in output and not written:
            return ""
        return "\n".join(path.read_text() for path in written) or output


def node_env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PATH=toolchain_path(), npm_config_manage_package_manager_versions="false", **extra)


def pnpm(cwd: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """A pnpm script of the Immich workspace, with the toolchain scripts/immich_build.sh installed."""
    return subprocess.run(
        ["pnpm", *args], cwd=cwd, env=node_env(CI="true"), capture_output=True, text=True, timeout=timeout
    )
