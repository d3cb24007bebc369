"""Deployment files follow the Immich release they build (tier "immich": reads Immich's own files).

What can drift silently is checked here (the images themselves are built by the container tier,
scripts/build_images.sh): each patched-server Dockerfile runs on exactly the base images of its
release's server/Dockerfile, every base image is a build argument (so that stand-ins can replace images
that cannot be pulled) whose default is upstream's pin, and docker-compose.yml pins the images of
Immich v3.1.0's own compose file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .support.immich_native import ROOT, pristine_source

pytestmark = [pytest.mark.immich]

DOCKERFILES = {"3.1.0": "Dockerfile.immich", "2.4.1": "Dockerfile.immich-v2.4.1"}
# A pinned image: upstream names it in FROM / COPY --from=, ours as the default of a build argument.
PINNED = re.compile(r"(?:FROM|COPY --from=|ARG [A-Z_]+=)\s*(\S+@sha256:[0-9a-f]{64})")


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


@pytest.mark.parametrize(
    "dockerfile", ["Dockerfile.immich", "Dockerfile.immich-v2.4.1", "Dockerfile.sidecar", "Dockerfile.postgres"]
)
def test_every_base_image_is_a_build_argument(dockerfile):
    text = (ROOT / dockerfile).read_text()
    arguments = dict(re.findall(r"^ARG ([A-Z_]+)=(\S+)$", text, re.M))
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", text, re.M)
    stage_names = {name for _, name in stages}
    for image in re.findall(r"^FROM (\S+)", text, re.M):
        if image in stage_names:
            continue
        match = re.fullmatch(r"\$\{([A-Z_]+)\}", image)
        assert match and arguments.get(match.group(1)), f"{dockerfile}: FROM {image} is neither a stage nor an argument"
    for source in re.findall(r"COPY --from=(\S+)", text):
        assert source in stage_names, f"{dockerfile}: COPY --from={source} names an image, not a stage"
    # What podman 4.3's builder (the container tier) accepts: absolute bind-mount targets.
    assert not re.search(r"--mount=[^ ]*target=(?!/)", text), f"{dockerfile}: a relative --mount target"


def test_compose_follows_immich_v3_compose_file():
    upstream = (release("3.1.0") / "docker" / "docker-compose.yml").read_text()
    ours = (ROOT / "docker-compose.yml").read_text()
    for image in re.findall(r"image: (\S+@sha256:\S+)", upstream):  # valkey and Immich's postgres
        assert image in ours, image
    assert "${IMMICH_VERSION:-v3.1.0}" in ours and "${IMMICH_DOCKERFILE:-Dockerfile.immich}" in ours
    env = (ROOT / ".env.example").read_text()
    for name in re.findall(r"^([A-Z_]+)=", (release("3.1.0") / "docker" / "example.env").read_text(), re.M):
        assert re.search(rf"^{name}=", env, re.M), f".env.example lacks Immich's {name}"
