"""Deployment files follow the Immich release they build (tier "immich": reads Immich's own files).

No Docker engine runs here, so the images are not built; what can drift silently is checked instead:
each patched-server Dockerfile runs on exactly the base images of its release's server/Dockerfile, and
docker-compose.yml pins the images of Immich v3.1.0's own compose file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .support.immich_native import ROOT, pristine_source

pytestmark = [pytest.mark.immich]

DOCKERFILES = {"3.1.0": "Dockerfile.immich", "2.4.1": "Dockerfile.immich-v2.4.1"}
PINNED = re.compile(r"(?:FROM|COPY --from=)\s*(\S+@sha256:[0-9a-f]{64})")


def release(version: str) -> Path:
    tree, reason = pristine_source(version)
    if tree is None:
        pytest.skip(f"deployment checks SKIPPED for v{version}: {reason}")
    return tree


@pytest.mark.parametrize("version", DOCKERFILES)
def test_each_dockerfile_uses_the_base_images_of_its_release(version):
    upstream = set(PINNED.findall((release(version) / "server" / "Dockerfile").read_text()))
    ours = (ROOT / DOCKERFILES[version]).read_text()
    assert upstream and upstream == set(PINNED.findall(ours))
    assert f"ARG IMMICH_VERSION=v{version}" in ours  # builds that release by default


def test_compose_follows_immich_v3_compose_file():
    upstream = (release("3.1.0") / "docker" / "docker-compose.yml").read_text()
    ours = (ROOT / "docker-compose.yml").read_text()
    for image in re.findall(r"image: (\S+@sha256:\S+)", upstream):  # valkey and Immich's postgres
        assert image in ours, image
    assert "${IMMICH_VERSION:-v3.1.0}" in ours and "${IMMICH_DOCKERFILE:-Dockerfile.immich}" in ours
    env = (ROOT / ".env.example").read_text()
    for name in re.findall(r"^([A-Z_]+)=", (release("3.1.0") / "docker" / "example.env").read_text(), re.M):
        assert re.search(rf"^{name}=", env, re.M), f".env.example lacks Immich's {name}"
