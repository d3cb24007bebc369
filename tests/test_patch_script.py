"""scripts/apply_patches.sh and scripts/refresh_patches.sh on a throwaway git repository (runs everywhere)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPLY = ROOT / "scripts" / "apply_patches.sh"
REFRESH = ROOT / "scripts" / "refresh_patches.sh"

ORIGINAL = {
    "server/package.json": json.dumps({"name": "immich", "version": "9.9.9"}, indent=2) + "\n",
    "server/src/search.ts": "".join(f"line {i}\n" for i in range(1, 40)),
    "web/src/bar.svelte": "<script>\n  let value = '';\n</script>\n",
}


def git(repo: Path, *args: str) -> str:
    env = dict(
        os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"
    )
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def write_tree(repo: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)


@pytest.fixture()
def series(tmp_path: Path) -> Path:
    """A two-patch series for 'Immich 9.9.9', made by refresh_patches.sh from commits on a branch."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    write_tree(work, ORIGINAL)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "pristine")
    git(work, "tag", "base")
    search = ORIGINAL["server/src/search.ts"].replace("line 20\n", "line 20 patched\n")
    write_tree(work, {"server/src/search.ts": search, "server/src/new.ts": "export const x = 1;\n"})
    (work / "server" / "node_modules").mkdir()
    (work / "server" / "node_modules" / "junk.js").write_text("build output never enters a patch\n")
    git(work, "add", "-A", "-f")
    git(work, "commit", "-qm", "server: first concern")
    write_tree(
        work,
        {
            "server/src/search.ts": search.replace("line 21\n", "line 21 patched again\n"),
            "web/src/bar.svelte": ORIGINAL["web/src/bar.svelte"].replace("''", "'ocr:'"),
        },
    )
    git(work, "commit", "-qam", "web: second concern, same file again")
    patches = tmp_path / "patches"
    result = subprocess.run(
        [str(REFRESH), str(work), "base"],
        capture_output=True,
        text=True,
        env=dict(os.environ, AIO_PATCHES_DIR=str(patches)),
    )
    assert result.returncode == 0, result.stderr
    return patches


def immich_tree(tmp_path: Path, name: str = "immich", files: dict[str, str] | None = None) -> Path:
    tree = tmp_path / name
    tree.mkdir()
    git(tree, "init", "-q")
    write_tree(tree, files or ORIGINAL)
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "immich")
    return tree


def apply(patches: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(APPLY), *args], capture_output=True, text=True, env=dict(os.environ, AIO_PATCHES_DIR=str(patches))
    )


def snapshot(tree: Path) -> dict[str, str]:
    return {
        str(p.relative_to(tree)): p.read_text()
        for p in sorted(tree.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def test_refresh_writes_one_patch_per_commit_and_a_series(series):
    folder = series / "v9.9.9"
    lines = [line for line in (folder / "series").read_text().splitlines() if not line.startswith("#")]
    assert lines == ["0001-server-first-concern.patch", "0002-web-second-concern-same-file-again.patch"]
    first = (folder / lines[0]).read_text()
    assert "node_modules" not in first and "server/src/new.ts" in first
    assert first.startswith("From 0000000000000000000000000000000000000000")  # stable across refreshes


def test_applies_the_whole_series(series, tmp_path):
    tree = immich_tree(tmp_path)
    result = apply(series, str(tree))
    assert result.returncode == 0, result.stderr
    assert "applied 2 patches" in result.stderr
    text = (tree / "server/src/search.ts").read_text()
    assert "line 20 patched\n" in text and "line 21 patched again\n" in text
    assert (tree / "server/src/new.ts").read_text() == "export const x = 1;\n"
    assert "'ocr:'" in (tree / "web/src/bar.svelte").read_text()


def test_check_changes_nothing(series, tmp_path):
    tree = immich_tree(tmp_path)
    before = snapshot(tree)
    result = apply(series, "--check", str(tree))
    assert result.returncode == 0 and "all 2 patches of v9.9.9 apply" in result.stderr
    assert snapshot(tree) == before


def test_conflicting_edit_fails_cleanly_naming_patch_file_and_line(series, tmp_path):
    edited = dict(
        ORIGINAL, **{"server/src/search.ts": ORIGINAL["server/src/search.ts"].replace("line 21\n", "line 21 local\n")}
    )
    tree = immich_tree(tmp_path, files=edited)
    before = snapshot(tree)
    for args in (["--check"], []):
        result = apply(series, *args, str(tree))
        assert result.returncode == 1
        assert "0001-server-first-concern.patch does not apply" in result.stderr
        assert "server/src/search.ts:" in result.stderr  # file:line of the failing hunk
        assert "nothing was changed" in result.stderr
        assert snapshot(tree) == before  # all or nothing: not even the web patch's file changed


def test_a_later_patch_failing_leaves_earlier_ones_unapplied(series, tmp_path):
    edited = dict(ORIGINAL, **{"web/src/bar.svelte": "<script>\n  let other = 1;\n</script>\n"})
    tree = immich_tree(tmp_path, files=edited)
    result = apply(series, str(tree))
    assert result.returncode == 1 and "0002-web-second-concern-same-file-again.patch does not apply" in result.stderr
    assert "patched" not in (tree / "server/src/search.ts").read_text()
    assert not (tree / "server/src/new.ts").exists()


def test_applying_twice_is_detected(series, tmp_path):
    tree = immich_tree(tmp_path)
    assert apply(series, str(tree)).returncode == 0
    after = snapshot(tree)
    result = apply(series, str(tree))
    assert result.returncode == 0 and "already carries all 2 patches" in result.stderr
    assert snapshot(tree) == after


def test_dirty_tree_is_refused_without_force(series, tmp_path):
    tree = immich_tree(tmp_path)
    (tree / "server/src/search.ts").write_text(ORIGINAL["server/src/search.ts"] + "line 99\n")
    result = apply(series, str(tree))
    assert result.returncode == 5 and "uncommitted changes" in result.stderr
    assert "line 20 patched" not in (tree / "server/src/search.ts").read_text()
    forced = apply(series, "--force", str(tree))
    assert forced.returncode == 0, forced.stderr
    assert "line 20 patched" in (tree / "server/src/search.ts").read_text()


def test_unknown_version_and_wrong_trees(series, tmp_path):
    other = dict(ORIGINAL, **{"server/package.json": json.dumps({"version": "1.0.0"}, indent=2) + "\n"})
    tree = immich_tree(tmp_path, files=other)
    result = apply(series, str(tree))
    assert result.returncode == 3 and "no patch series for Immich 1.0.0 (available: v9.9.9" in result.stderr
    mismatch = apply(series, str(tree), "9.9.9")
    assert mismatch.returncode == 4 and "is Immich 1.0.0, not 9.9.9" in mismatch.stderr
    not_immich = apply(series, str(tmp_path))
    assert not_immich.returncode == 4 and "not an Immich source tree" in not_immich.stderr
    assert apply(series).returncode == 2
    assert apply(series, "--bogus", str(tree)).returncode == 2


def test_a_tree_that_is_not_a_git_repository(series, tmp_path):
    tree = tmp_path / "plain"
    write_tree(tree, ORIGINAL)
    assert apply(series, str(tree)).returncode == 0
    assert "line 20 patched" in (tree / "server/src/search.ts").read_text()


def test_the_real_series_is_listed_completely():
    """Every patch file of every shipped series is in its series file, and every listed file exists."""
    for folder in sorted((ROOT / "patches").glob("v*")):
        listed = [line for line in (folder / "series").read_text().splitlines() if line and not line.startswith("#")]
        assert listed == sorted(p.name for p in folder.glob("*.patch")), folder


# Generated files (the OpenAPI spec, the SDK client), tests and translations are not hand-written.
NOT_HAND_WRITTEN = re.compile(r"(\.spec\.ts$|^i18n/|^open-api/|^packages/sdk/src/fetch-client\.ts$)")


def hand_written_lines(patch: Path) -> int:
    count, path = 0, None
    for line in patch.read_text().splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("+") and path and not NOT_HAND_WRITTEN.search(path):
            count += 1
    return count


# v2.4.1 gets fixes but no new features: its features in at most 500 hand-written lines. v3.1.0 carries all of them
# and the features since (why each photo matched: issue 20) in at most 700.
HAND_WRITTEN_LIMITS = {"v2.4.1": 500, "v3.1.0": 700}


def test_v3_carries_every_feature_of_v2_and_each_series_stays_within_its_hand_written_lines():
    series = {folder.name: sorted(folder.glob("*.patch")) for folder in (ROOT / "patches").glob("v*")}
    assert set(series) == set(HAND_WRITTEN_LIMITS)
    subjects = {name: [p.name.split("-", 1)[1] for p in patches] for name, patches in series.items()}
    assert set(subjects["v2.4.1"]) <= set(subjects["v3.1.0"]), subjects
    for name, patches in series.items():
        total = sum(hand_written_lines(p) for p in patches)
        assert 0 < total <= HAND_WRITTEN_LIMITS[name], f"{name}: {total} hand-written lines"
