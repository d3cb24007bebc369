"""Immich built natively from its source (scripts/immich_build.sh), for the tiers that need it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_SOURCE = 3  # scripts/immich_build.sh: no Immich source on this machine


def toolchain_path() -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "immich-all-in-one"
    return f"{cache / 'toolchain' / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"


def pristine_source() -> tuple[Path | None, str]:
    """(pristine Immich tree, "") once there is one (made from the release archive or a clone on first use);
    (None, reason) when this machine has no way to get it."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "immich_build.sh"), "--print-source"], capture_output=True, text=True
    )
    if result.returncode == NO_SOURCE:
        return None, result.stderr.strip()
    if result.returncode != 0:
        raise RuntimeError(f"scripts/immich_build.sh --print-source failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1]), ""


def build_immich(*flags: str) -> tuple[Path | None, str]:
    """(working copy, "") once built; (None, reason) when there is no source; raises on a failed build."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "immich_build.sh"), "--print-dir", *flags], capture_output=True, text=True
    )
    if result.returncode == NO_SOURCE:
        return None, result.stderr.strip()
    if result.returncode != 0:
        raise RuntimeError(f"scripts/immich_build.sh {' '.join(flags)} failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1]), ""


def immich_migrate(work: Path, database_url: str) -> None:
    """Immich's own migrations, run by Immich's own runner, as its server does at start."""
    env = dict(os.environ, DB_URL=database_url, DB_VECTOR_EXTENSION="pgvector", PATH=toolchain_path())
    result = subprocess.run(
        ["node", "dist/bin/migrations.js", "run"],
        cwd=work / "server",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 or "Migrations failed" in result.stdout + result.stderr:
        raise RuntimeError(f"Immich's migrations failed:\n{(result.stdout + result.stderr)[-4000:]}")


def node_env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PATH=toolchain_path(), npm_config_manage_package_manager_versions="false", **extra)


def pnpm(cwd: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """A pnpm script of the Immich workspace, with the toolchain scripts/immich_build.sh installed."""
    return subprocess.run(
        ["pnpm", *args], cwd=cwd, env=node_env(CI="true"), capture_output=True, text=True, timeout=timeout
    )
