"""Shared fixtures: random-weights cn-clip checkpoints, the Flask app, PostgreSQL databases, Immich builds.
Helpers that tests and scripts import live in tests/support/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sidecar.config import Settings

from .support.checkpoints import TEST_MODELS, build_random_checkpoint, checkpoint_cache_dir


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "only_series(*versions): a feature of these releases' patch series only (tests/conftest.py)"
    )


def pytest_collection_modifyitems(config, items):
    """A test marked only_series is not generated for the other releases' stacks (v2.4.1 gets fixes, not
    new features): it does not apply there, so it is deselected, not skipped."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("only_series")
        callspec = getattr(item, "callspec", None)
        version = callspec.params.get("stack") if callspec is not None else None
        (dropped if marker and version is not None and version not in marker.args else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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


# --- PostgreSQL (aio schema tiers) -----------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    from .support.pgcluster import PgCluster, extension_available, missing_reason

    reason = missing_reason()
    if reason:
        pytest.skip(f"PostgreSQL tier skipped: {reason}")
    if not extension_available("vector"):
        pytest.skip("PostgreSQL tier skipped: pgvector is not installed (scripts/install_pgvector.sh)")
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def new_database(pg_cluster):
    """Makes a fresh database on the session's cluster: new_database(name, schema="immich", immich_build=None)
    returns its URL (tests/support/database.py: fresh_database says what it holds)."""
    from .support.database import fresh_database

    def make(name: str, schema: str | None = "immich", immich_build: Path | None = None) -> str:
        return fresh_database(pg_cluster, name, schema, immich_build)

    return make


@pytest.fixture()
def immich_db(new_database, request):
    """A fresh database of the test's name holding Immich's tables (tests/support/immich_schema.sql)."""
    return new_database("t_" + request.node.name[:50])


# --- Immich v2.4.1 built from source (tiers "immich", "patches", "e2e") ----------------------------


@pytest.fixture(scope="session")
def immich_server():
    """The working copy of a native, unpatched Immich build; skips loudly when the source is absent."""
    from .support.immich_native import build_immich

    work, reason = build_immich()
    if work is None:
        pytest.skip(f"Immich tier SKIPPED: {reason}")
    return work
