"""Shared fixtures: random-weights cn-clip checkpoints, the Flask app, Immich-shaped requests."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from sidecar.config import Settings

from .checkpoints import build_random_checkpoint, checkpoint_cache_dir


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """AIO_REQUIRE_ALL_TIERS=1 (.ci/run, where every optional part is provided) turns a skip into a failure,
    unless the test is marked ci_may_skip: CI must not pass by testing less."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and os.environ.get("AIO_REQUIRE_ALL_TIERS") == "1"
        and item.get_closest_marker("ci_may_skip") is None
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"AIO_REQUIRE_ALL_TIERS=1: this test must run here, but it skipped: {reason}"


# The two smallest cn-clip models get real (random-weights) checkpoints; bigger ones are covered by
# their published configuration, which is what decides their dimension.
TEST_MODELS = ("cn-clip-RN50", "cn-clip-ViT-B-16")


@pytest.fixture(scope="session")
def checkpoint_dir() -> Path:
    directory = checkpoint_cache_dir()
    for name in TEST_MODELS:
        build_random_checkpoint(name, directory)
    return directory


@pytest.fixture(scope="session")
def base_settings(checkpoint_dir: Path, tmp_path_factory) -> Settings:
    return Settings(
        cache_folder=tmp_path_factory.mktemp("ml-cache"),
        clip_model_dir=checkpoint_dir,
        device="cpu",
        clip_backend="torch",  # tests/test_onnx.py covers the ONNX backend with its own exports
        clip_model="cn-clip-RN50",
        clip_aliases={"ViT-B-16__openai": "cn-clip-ViT-B-16"},
        mt_photos_api_key="mt_photos_ai_extra",
        model_ttl=0,
        request_threads=4,
    )


@pytest.fixture(scope="session")
def registry(base_settings):
    from sidecar.models.registry import ModelRegistry

    return ModelRegistry(base_settings)


@pytest.fixture(scope="session")
def app(base_settings, registry):
    from sidecar.app import create_app

    return create_app(base_settings, registry)


@pytest.fixture()
def client(app):
    return app.test_client()


def immich_form(entries: dict[str, Any], image: bytes | None = None, text: str | None = None) -> dict[str, Any]:
    """The multipart fields exactly as Immich's machine-learning.repository.ts appends them."""
    form: dict[str, Any] = {"entries": json.dumps(entries, separators=(",", ":"))}  # JSON.stringify
    if image is not None:
        form["image"] = (io.BytesIO(image), "blob", "application/octet-stream")  # FormData Blob
    if text is not None:
        form["text"] = text
    return form


def clip_visual(model: str) -> dict:
    return {"clip": {"visual": {"modelName": model}}}


def clip_textual(model: str, language: str = "zh-CN") -> dict:
    return {"clip": {"textual": {"modelName": model, "options": {"language": language}}}}


def ocr_entries(
    model: str = "PP-OCRv5_mobile", min_detection: float = 0.5, min_recognition: float = 0.8, max_resolution: int = 736
) -> dict:
    return {
        "ocr": {
            "detection": {"modelName": model, "options": {"minScore": min_detection, "maxResolution": max_resolution}},
            "recognition": {"modelName": model, "options": {"minScore": min_recognition}},
        }
    }


def face_entries(model: str = "buffalo_l") -> dict:
    return {
        "facial-recognition": {
            "detection": {"modelName": model, "options": {"minScore": 0.7}},
            "recognition": {"modelName": model},
        }
    }


def jpeg_bytes(size=(640, 480), color=(200, 80, 40)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


# --- PostgreSQL (aio schema tiers) -----------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    from .pgcluster import PgCluster, extension_available, missing_reason

    reason = missing_reason()
    if reason:
        pytest.skip(f"PostgreSQL tier skipped: {reason}")
    if not extension_available("vector"):
        pytest.skip("PostgreSQL tier skipped: pgvector is not installed (scripts/install_pgvector.sh)")
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


def zhparser_available() -> bool:
    from .pgcluster import extension_available

    return extension_available("zhparser")


ZHPARSER_SKIP = (
    "zhparser tier SKIPPED: the zhparser extension is not installed in PostgreSQL 15 "
    "(scripts/install_zhparser.sh builds it from AIO_UPSTREAM_ARCHIVES or a network clone; or use "
    "Dockerfile.postgres); only the degraded-mode tests ran"
)


@pytest.fixture()
def immich_db(pg_cluster, request):
    """A fresh database holding Immich's tables (tests/immich_schema.sql); returns its URL."""
    import re

    import psycopg

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    url = pg_cluster.create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute((Path(__file__).parent / "immich_schema.sql").read_text())
    return url


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from sidecar.db import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(url: str, action: str, revision: str | None = None, mode: str | None = None, env=None) -> int:
    import os

    from sidecar.db import run_db_command

    saved = os.environ.get("AIO_SEARCH_MODE")
    try:
        if mode:
            os.environ["AIO_SEARCH_MODE"] = mode
        else:
            os.environ.pop("AIO_SEARCH_MODE", None)
        return run_db_command(action, revision, url=url.replace("postgresql://", "postgresql+psycopg://", 1))
    finally:
        if saved is None:
            os.environ.pop("AIO_SEARCH_MODE", None)
        else:
            os.environ["AIO_SEARCH_MODE"] = saved


# --- Immich v2.4.1 built from source (tiers "immich", "patches", "e2e") ----------------------------


@pytest.fixture(scope="session")
def immich_server():
    """The working copy of a native, unpatched Immich build; skips loudly when the source is absent."""
    from .immich_native import build_immich

    work, reason = build_immich()
    if work is None:
        pytest.skip(f"Immich tier SKIPPED: {reason}")
    return work
