"""alembic/schema.sql is the aio schema the migrations install at head (like Rails' db/schema.rb)."""

import difflib

import pytest

from scripts.dump_schema import REGENERATE, SCHEMA_FILE, canonical_dump, schema_file_text

from .support.database import migrate
from .support.pgcluster import extension_available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not extension_available("zhparser"), reason="zhparser is not installed"),
]


def test_schema_file_is_current(immich_db):
    assert migrate(immich_db, "upgrade", "head") == 0
    expected = schema_file_text(canonical_dump(immich_db))
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    if committed != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    "alembic/schema.sql (committed)",
                    "alembic/schema.sql (as the migrations install it)",
                )
            )[:60]
        )
        pytest.fail(f"alembic/schema.sql is stale: regenerate it with `{REGENERATE}`\n{diff}", pytrace=False)
