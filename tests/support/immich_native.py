"""Immich built natively from its source (scripts/immich_build.sh), for the tiers that need it."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_SOURCE = 3  # scripts/immich_build.sh: no Immich source on this machine


def toolchain_path(workspace: Path | None = None) -> str:
    """PATH with the toolchain scripts/immich_build.sh installed: node 24, pnpm, and the exact pnpm a
    workspace pins when it is not pnpm 10 (Immich 3 pins pnpm 11, which refuses any other version)."""
    tools = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "immich-all-in-one" / "toolchain"
    dirs = [tools / "node_modules" / ".bin"]
    while workspace is not None and not (workspace / "pnpm-workspace.yaml").is_file():
        workspace = workspace.parent if workspace.parent != workspace else None
    if workspace is not None:
        pinned = json.loads((workspace / "package.json").read_text()).get("packageManager", "")
        version = pinned.removeprefix("pnpm@")
        if pinned.startswith("pnpm@") and not version.startswith("10."):
            dirs.insert(0, tools / f"pnpm-{version}" / "node_modules" / ".bin")
    return os.pathsep.join([*map(str, dirs), os.environ["PATH"]])


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


def node_env(workspace: Path | None = None, **extra: str) -> dict[str, str]:
    return dict(os.environ, PATH=toolchain_path(workspace), npm_config_manage_package_manager_versions="false", **extra)


def pnpm(cwd: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """A pnpm script of the Immich workspace, with the toolchain scripts/immich_build.sh installed."""
    return subprocess.run(
        ["pnpm", *args], cwd=cwd, env=node_env(cwd, CI="true"), capture_output=True, text=True, timeout=timeout
    )


def add_asset(conn, lines: list[str]) -> uuid.UUID:
    """An asset and its OCR boxes (one line each, top to bottom) with whatever columns this release's real
    tables require (v2.4.1: deviceAssetId and deviceId; v3.1.0: checksumAlgorithm)."""
    user = conn.execute('SELECT id FROM "user" LIMIT 1').fetchone()
    if user is None:
        user = conn.execute("INSERT INTO \"user\" (email, name) VALUES ('a@example.com', 'a') RETURNING id").fetchone()
    asset = uuid.uuid4()
    values = {
        "ownerId": user[0],
        "deviceAssetId": str(asset),
        "deviceId": "web",
        "type": "IMAGE",
        "originalPath": f"/data/upload/{asset}.jpg",
        "originalFileName": "photo.jpg",
        "checksum": asset.bytes,
        "checksumAlgorithm": "sha1",
        "fileCreatedAt": "now",
        "fileModifiedAt": "now",
        "localDateTime": "now",
    }
    required = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'asset' AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'"
        )
    ]
    unknown = set(required) - set(values)
    assert not unknown, f"asset columns this helper does not know how to fill: {sorted(unknown)}"
    columns = ", ".join(f'"{name}"' for name in required)
    placeholders = ", ".join(["%s"] * len(required))
    conn.execute(
        f"INSERT INTO asset (id, {columns}) VALUES (%s, {placeholders})", (asset, *(values[c] for c in required))
    )
    for index, line in enumerate(lines):
        top = 0.1 * index
        conn.execute(
            'INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) '
            "VALUES (%s, 0.1, %s, 0.9, %s, 0.9, %s, 0.1, %s, 0.9, 0.9, %s)",
            (asset, top, top, top + 0.05, top + 0.05, line),
        )
    return asset
