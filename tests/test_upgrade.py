"""Tier "e2e": the upgrade from patched Immich v2.4.1 to patched v3.1.0, on real data, as docs/deployment.md's
"From v2.4.1 to v3.1.0" section tells a user to do it.

A v2.4.1 stack gets photos through the API (Chinese text and none) and finishes OCR and CLIP; its server
stops; the v3.1.0 server starts on the same database and media (Immich's own migrations run at start),
then `immich-sidecar db upgrade`. After that the same `ocr:` queries give the same results in the same
order, smart search answers, every asset with visible OCR text has its one aio document, no table of
Immich's lost a row, and Regenerate OCR / CLIP work on v3.1.0.
"""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest
from psycopg import sql

from .support.database import migrate
from .support.e2e_client import (
    CLIP_MODEL,
    EMAIL,
    PASSWORD,
    metadata_search,
    names_of,
    sign_up_admin,
    smart_search,
    upload,
    wait_for_jobs,
)
from .support.immich_native import ROOT, build_immich

pytestmark = [pytest.mark.immich, pytest.mark.postgres]

PHOTOS: dict[str, tuple[str, ...] | None] = {
    "invoice-vat": ("上海增值税电子普通发票", "发票代码 031001900111", "发票号码 12345678", "合计 128.00元"),
    "invoice-hk": ("香港電子發票", "發票號碼 88661234"),
    "receipt-market": ("华联超市 购物小票", "如需发票请到服务台开具"),
    "sign-hospital": ("复旦大学附属华山医院", "门诊大楼"),
    "ticket-train": ("火车票", "上海南站 至 杭州东站"),
    "express": ("顺丰速运", "运单号 SF1234567890"),
    "photo-1": None,
    "photo-2": None,
}
QUERIES = ["发票", "發票", "医院", "火车票", "SF1234567890", '"电子普通发票"', "发票 -增值税"]


def table_counts(url: str) -> dict[str, int]:
    """Rows per table of Immich's schema (public), the aio schema aside."""
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        return {
            table: conn.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))).fetchone()[0]
            for table in tables
        }


def ocr_results(stack, token, ids) -> dict[str, list[str]]:
    return {query: names_of(ids, smart_search(stack, token, f"ocr:{query}")) for query in QUERIES}


@pytest.fixture(scope="module")
def builds():
    for tool, package in (("redis-server", "redis-server"),):
        if shutil.which(tool) is None:
            pytest.skip(f"upgrade test SKIPPED: {tool} is not installed (apt-get install {package})")
    works = {}
    for version in ("2.4.1", "3.1.0"):
        work, reason = build_immich("--patched", "--web", version=version)
        if work is None:
            pytest.skip(f"upgrade test SKIPPED: {reason}")
        works[version] = work
    return works


@pytest.fixture(scope="module")
def upgraded(builds, checkpoint_dir):
    """The upgrade steps of docs/deployment.md on a v2.4.1 stack with data; what was seen before and after."""
    from .support.e2e_stack import Stack

    stack = Stack(builds["2.4.1"], checkpoint_dir, CLIP_MODEL).start()
    try:
        token, _ = sign_up_admin(stack)
        ids = upload(stack, token, PHOTOS, "upgrade")
        wait_for_jobs(stack, token)
        before = {
            "ocr": ocr_results(stack, token, ids),
            "smart": names_of(ids, smart_search(stack, token, "海边的日落")),
            "counts": table_counts(stack.db_url),
        }

        # The upgrade: stop the server, start the new release on the same database and media (its own
        # migrations run at start), then the aio migrations.
        stack.stop_immich()
        stack.start_immich(builds["3.1.0"])
        assert migrate(stack.db_url, "upgrade", "head", mode=stack.search_mode) == 0  # `immich-sidecar db upgrade`
        token = stack.api("POST", "/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["accessToken"]
        wait_for_jobs(stack, token)
        yield stack, token, ids, before
    finally:
        keep = ROOT / "test-results" / "e2e" / "upgrade"
        keep.mkdir(parents=True, exist_ok=True)
        for log in stack.logs.glob("*.log"):
            shutil.copy(log, keep / log.name)
        stack.close()


def test_the_same_ocr_results_in_the_same_order(upgraded):
    stack, token, ids, before = upgraded
    after = ocr_results(stack, token, ids)
    assert after == before["ocr"]
    assert after["发票"][0] == "invoice-vat" and set(after["发票"]) == {"invoice-vat", "invoice-hk", "receipt-market"}
    assert after["發票"][0] == "invoice-hk"  # the form typed first, on both releases


def test_smart_search_still_answers(upgraded):
    stack, token, ids, before = upgraded
    after = names_of(ids, smart_search(stack, token, "海边的日落"))
    assert after and set(after) == set(before["smart"])


def test_one_aio_document_per_asset_with_visible_ocr(upgraded):
    stack, _, ids, _ = upgraded
    with psycopg.connect(stack.db_url) as conn:
        documents = [row[0] for row in conn.execute("SELECT asset_id::text FROM aio.ocr_document").fetchall()]
        visible = {
            row[0]
            for row in conn.execute('SELECT DISTINCT "assetId"::text FROM asset_ocr WHERE "isVisible"').fetchall()
        }
    assert sorted(documents) == sorted(visible)
    assert visible == {ids[name] for name, lines in PHOTOS.items() if lines}


# The registry of Immich's built-in plugin: rows Immich writes itself at every start from its build folder,
# in tables that v3.1.0's migration 1778614946174-UpdateWorkflowTables drops and recreates ("take #2").
# Here the plugin's WebAssembly is absent (it needs upstream's extism toolchain), so v3.1.0 registers nothing.
PLUGIN_REGISTRY = {"plugin", "plugin_action", "plugin_filter"}


def test_no_row_of_immich_was_lost(upgraded):
    stack, _, _, before = upgraded
    after = table_counts(stack.db_url)
    counts = {t: [before["counts"].get(t), after.get(t)] for t in sorted({*before["counts"], *after})}
    keep = ROOT / "test-results" / "e2e" / "upgrade"
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "table-counts.json").write_text(json.dumps(counts, indent=1))  # for whoever reads the run
    lost = {t: (count, after.get(t)) for t, count in before["counts"].items() if after.get(t, 0) < count}
    assert set(lost) <= PLUGIN_REGISTRY, lost  # None: a table v3.1.0 dropped
    assert before["counts"]["workflow"] == 0  # that migration also drops user workflows: there were none
    for table in ("asset", "asset_exif", "asset_file", "asset_ocr", "smart_search", "user", "ocr_search"):
        assert after[table] == before["counts"][table] > 0, table
    assert before["counts"]["asset"] == len(PHOTOS)


def test_regenerate_ocr_and_clip_on_the_new_release(upgraded):
    stack, token, ids, _ = upgraded
    asset = ids["sign-hospital"]
    for job, task in (("refresh-ocr", "ocr"), ("refresh-smart-search", "clip")):
        seen = stack.sidecar_requests(task)
        response = stack.api("POST", "/assets/jobs", token, json={"assetIds": [asset], "name": job})
        assert response.status_code == 204, response.text
        wait_for_jobs(stack, token)
        assert stack.sidecar_requests(task) - seen == 1, job
    assert names_of(ids, metadata_search(stack, token, ocr="医院")) == ["sign-hospital"]
