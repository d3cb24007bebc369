"""Tier "patches": each patch series on the real Immich source of its release, v2.4.1 and v3.1.0 (skips
loudly without it).

The series must apply to a pristine tree (all or nothing, twice detected), and the patched tree must
pass upstream's own checks: server `pnpm check` and `pnpm test`, web `check:typescript`,
`check:svelte`, `test` and `build`. The patched server's search queries also run against a real
PostgreSQL with Immich's and the aio migrations.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from .support.database import ZHPARSER_SKIP, migrate, zhparser_available
from .support.immich_native import ROOT, build_immich, node_env, pnpm, pristine_source

pytestmark = [pytest.mark.immich]

APPLY = ROOT / "scripts" / "apply_patches.sh"


VERSIONS = ["2.4.1", "3.1.0"]  # every release with a series in patches/


@pytest.fixture(scope="session", params=VERSIONS)
def version(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def pristine(version) -> Path:
    tree, reason = pristine_source(version)
    if tree is None:
        pytest.skip(f"patches tier SKIPPED for v{version}: {reason}")
    return tree


def test_every_series_is_tested():
    assert sorted(p.name for p in (ROOT / "patches").iterdir() if p.is_dir()) == [f"v{v}" for v in VERSIONS]


@pytest.fixture()
def copy_of_pristine(pristine, tmp_path) -> Path:
    target = tmp_path / "immich"
    shutil.copytree(pristine, target, symlinks=True, ignore=shutil.ignore_patterns("node_modules"))
    if not (target / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=target, check=True)
        subprocess.run(["git", "add", "-A"], cwd=target, check=True)
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pristine"], cwd=target, check=True
        )
    return target


def apply(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(APPLY), *args], capture_output=True, text=True)


def git_status(tree: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=tree, capture_output=True, text=True).stdout


def test_series_applies_to_the_pristine_tree(pristine, version):
    result = apply("--check", str(pristine))
    assert result.returncode == 0, result.stderr
    assert f"patches of v{version} apply" in result.stderr


def test_apply_then_apply_again(copy_of_pristine):
    first = apply(str(copy_of_pristine))
    assert first.returncode == 0, first.stderr
    changed = git_status(copy_of_pristine)
    assert "server/src/services/search.service.ts" in changed and "web/src/lib/utils/search-payload.ts" in changed
    again = apply(str(copy_of_pristine))
    assert again.returncode == 0 and "already carries all" in again.stderr
    assert git_status(copy_of_pristine) == changed


def test_conflicting_edit_fails_cleanly(copy_of_pristine):
    target = copy_of_pristine / "server" / "src" / "utils" / "database.ts"
    target.write_text(target.read_text().replace("%>> f_unaccent", "%> f_unaccent"))  # an upstream-like change
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "upstream change"],
        cwd=copy_of_pristine,
        check=True,
    )
    for args in (["--check"], []):
        result = apply(*args, str(copy_of_pristine))
        assert result.returncode == 1
        assert "0002-server-OCR-search-ranked-by-the-aio-schema" in result.stderr
        assert "server/src/utils/database.ts:" in result.stderr
        assert git_status(copy_of_pristine) == ""  # nothing changed, not even the patches before 0002


def test_a_series_for_another_release_is_refused_before_anything_changes(copy_of_pristine, version):
    other = next(v for v in VERSIONS if v != version)
    refused = apply(str(copy_of_pristine), other)
    assert refused.returncode == 4 and f"is Immich {version}, not {other}" in refused.stderr
    forced = apply("--force", str(copy_of_pristine), other)  # forced: the series does not fit, all or nothing
    assert forced.returncode == 1, forced.stderr
    assert git_status(copy_of_pristine) == ""
    unknown = apply(str(copy_of_pristine), "9.9.9")
    assert unknown.returncode == 4
    no_series = apply("--force", str(copy_of_pristine), "9.9.9")
    assert no_series.returncode == 3 and "(available: v2.4.1 v3.1.0" in no_series.stderr


# --- the patched build and upstream's own checks ------------------------------------------------------


@pytest.fixture(scope="session")
def patched(pristine, version) -> Path:
    work, reason = build_immich("--patched", "--web", version=version)
    if work is None:
        pytest.skip(f"patches tier SKIPPED for v{version}: {reason}")
    return work


def run_ok(result: subprocess.CompletedProcess, what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{(result.stdout + result.stderr)[-6000:]}"


def test_server_type_check(patched):
    run_ok(pnpm(patched / "server", "check"), "server pnpm check")


def test_server_unit_tests(patched):
    result = pnpm(patched / "server", "test", "--run")
    run_ok(result, "server pnpm test")
    # The new tests of the series ran with the rest.
    output = result.stdout + result.stderr
    assert "ocr-query.spec.ts" in output and "search.service.spec.ts" in output


def test_web_type_check(patched):
    run_ok(pnpm(patched / "web", "check:typescript"), "web check:typescript")


def test_web_svelte_check(patched):
    run_ok(pnpm(patched / "web", "check:svelte"), "web check:svelte")


def test_web_unit_tests(patched):
    result = pnpm(patched / "web", "test")
    run_ok(result, "web test")
    assert "search-payload.spec.ts" in result.stdout + result.stderr


def test_web_build(patched):
    # scripts/immich_build.sh --web built it; the SPA and its translations are there.
    assert (patched / "web" / "build" / "index.html").is_file()
    assert any((patched / "web" / "build").rglob("*.js"))


@pytest.mark.skipif(not zhparser_available(), reason=ZHPARSER_SKIP)
def test_patched_search_queries_on_a_real_database(patched, version, new_database):
    """The SQL the patch generates (OCR ranking, fallback, hybrid fusion, Immich 3's filter model) against
    real tables."""
    from .support.immich_native import add_asset

    url = new_database("patched_search_" + version, immich_build=patched)
    with psycopg.connect(url, autocommit=True) as conn:
        invoice = add_asset(conn, ["增值税电子普通发票", "发票号码 12345678", "发票 金额 128.00"])
        receipt = add_asset(conn, ["超市购物小票", "如需发票请到服务台"])
        station = add_asset(conn, ["上海南站"])
        user = conn.execute('SELECT id FROM "user"').fetchone()[0]
        for asset, first in ((station, 0.9), (receipt, 0.5), (invoice, 0.1)):  # CLIP likes the station best
            vector = [first] + [0.01] * 511
            conn.execute('INSERT INTO smart_search ("assetId", embedding) VALUES (%s, %s)', (asset, str(vector)))
    query = json.dumps({"ocr": "发票", "userIds": [str(user)], "embedding": str([1.0] + [0.0] * 511)})

    def search() -> dict:
        result = subprocess.run(
            ["node", str(ROOT / "tests" / "support" / "search_sql_check.cjs"), str(patched / "server"), query],
            env=node_env(DB_URL=url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    without_aio = search()
    assert without_aio["engine"] == "immich"  # upstream's method, nothing raised
    if version != "2.4.1":
        assert without_aio["statsV3"] == len(without_aio["filterV3"])

    # aio older than the server needs: v3.1.0 calls 0010's aio.ocr_matching_assets, so it keeps upstream's method
    assert migrate(url, "upgrade", "0009_no_drift") == 0
    assert search()["engine"] == ("aio" if version == "2.4.1" else "immich")
    assert migrate(url, "upgrade", "head") == 0
    with_aio = search()
    assert with_aio["engine"] == "aio"
    assert with_aio["metadata"] == [str(invoice), str(receipt)]  # three mentions beat one
    assert with_aio["stats"] == 2
    assert with_aio["snippets"] == {
        str(invoice): "增值税电子普通<b>发票</b> … <b>发票</b>号码 12345678",
        str(receipt): "如需<b>发票</b>请到服务台",
    }
    # Fusion: the OCR matches rise above the station that CLIP alone ranks first.
    assert with_aio["hybrid"][:2] == [str(invoice), str(receipt)] and str(station) in with_aio["hybrid"]
    assert uuid.UUID(with_aio["hybrid"][2]) == station
    if version != "2.4.1":  # v3.1.0: why each matched, as data (aio 0008), and which list found it
        assert with_aio["matches"] == {
            str(invoice): [
                {"text": "增值税电子普通发票", "ranges": [[7, 9]]},
                {"text": "发票号码 12345678", "ranges": [[0, 2]]},
            ],
            str(receipt): [{"text": "如需发票请到服务台", "ranges": [[2, 4]]}],
        }
        with psycopg.connect(url) as conn:
            boxes = conn.execute(
                "SELECT id::text FROM asset_ocr WHERE \"assetId\" = %s AND text LIKE '%%发票%%' ORDER BY id", (invoice,)
            ).fetchall()
        assert sorted(with_aio["boxes"]) == [row[0] for row in boxes] and len(boxes) == 3
        assert with_aio["matchedBy"] == {str(invoice): "both", str(receipt): "both", str(station): "picture"}
    if version != "2.4.1":  # the branch filter model filters by aio too (it orders by date, not by rank)
        assert with_aio["filterV3"] == sorted([str(invoice), str(receipt)]) and with_aio["statsV3"] == 2
