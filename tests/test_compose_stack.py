"""The deployment users run (tier "containers", issue 23): the four images built with podman from the
repository's Dockerfiles, and the stack of docker-compose.yml started, searched, restarted and searched
again (scripts/compose_stack_check.sh, which says what stands in for what here). Skips, with the reason,
where podman cannot run containers or no Immich source can be had; with AIO_REQUIRE_ALL_TIERS=1 (CI)
such a skip fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "test-results" / "compose"

pytestmark = [pytest.mark.containers]


def containers_run_here() -> str:
    """ "" when podman runs a container here, else why not."""
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/install_podman.sh)"
    with tempfile.TemporaryDirectory() as rootfs:
        shutil.copy("/sbin/ldconfig", rootfs)
        for folder in ("proc", "sys", "dev", "etc"):
            os.mkdir(os.path.join(rootfs, folder))
        result = subprocess.run(
            ["podman", "run", "--rm", "--rootfs", rootfs, "/ldconfig", "--version"], capture_output=True, text=True
        )
    return "" if result.returncode == 0 else f"podman cannot run containers here: {result.stderr.strip()[-300:]}"


def run_logged(name: str, command: list[str], timeout: float) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    with log.open("w") as out:
        result = subprocess.run(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            env=dict(os.environ, AIO_PYTHON=sys.executable),
        )
    assert result.returncode == 0, f"{' '.join(command)} failed; the end of {log}:\n" + log.read_text()[-4000:]


@pytest.fixture(scope="module")
def podman_ready():
    reason = containers_run_here()
    if reason:
        pytest.skip(f"container tier SKIPPED: {reason}")
    archives = os.environ.get("AIO_UPSTREAM_ARCHIVES", "")
    if not (Path(archives) / "immich-v3.1.0.tar.gz").is_file():
        pytest.skip("container tier SKIPPED: no Immich source archives (AIO_UPSTREAM_ARCHIVES) to build from")


def test_immich_v2_4_1_image_builds(podman_ready):
    run_logged("build-immich-v2.4.1", [str(ROOT / "scripts" / "build_images.sh"), "immich-v2.4.1"], timeout=3600)


def test_compose_stack_serves_search_and_survives_a_restart(podman_ready):
    run_logged("stack", [str(ROOT / "scripts" / "compose_stack_check.sh")], timeout=3600)
