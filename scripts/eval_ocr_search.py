#!/usr/bin/env python3
"""OCR search quality on the labelled hard set (tests/support/hard_corpus.py), per category: aio against Immich's
own method, after the photos were read by the sidecar's OCR (RapidOCR, the wheel's models).

Starts a scratch PostgreSQL 15 (pgvector and zhparser installed: scripts/test.sh installs both),
creates Immich's tables, stores the OCR answers as Immich does, runs the aio migrations and prints
the OCR character recall and one table of MRR, precision@10 and recall@10.

    .venv/bin/python scripts/eval_ocr_search.py [--show QUERY ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sidecar.app import create_app  # noqa: E402
from sidecar.config import Settings  # noqa: E402
from tests.support.aio_helpers import asset_id, search_aio, search_immich  # noqa: E402
from tests.support.database import fresh_database, migrate  # noqa: E402
from tests.support.hard_corpus import PHOTOS  # noqa: E402
from tests.support.ocr_search_eval import character_recall, evaluate, read_photos, store_as_immich, table  # noqa: E402
from tests.support.pgcluster import PgCluster, extension_available  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", nargs="*", default=[], help="queries whose first results to print")
    parser.add_argument("--revision", default="head", help="the aio revision to measure (before/after a change)")
    args = parser.parse_args()
    if not extension_available("zhparser"):
        print("zhparser is not installed in PostgreSQL 15: run scripts/install_zhparser.sh", file=sys.stderr)
        return 2

    app = create_app(Settings(cache_folder=Path(tempfile.mkdtemp()), device="cpu", model_ttl=0))
    answers = read_photos(app.test_client())
    recall, _ = character_recall(answers)
    print(f"OCR character recall on {len(PHOTOS)} photos: {recall:.4f}")

    cluster = PgCluster().start()
    try:
        url = fresh_database(cluster, "hard_set")
        with psycopg.connect(url, autocommit=True) as conn:
            store_as_immich(conn, answers)
        if migrate(url, "upgrade", args.revision) != 0:
            return 1
        with psycopg.connect(url, autocommit=True) as conn:
            print(table(evaluate(conn)))
            names = {asset_id(photo.name): photo.name for photo in PHOTOS}
            for query in args.show:
                print(f"{query}: aio {[names[i] for i in search_aio(conn, query)]}")
                print(f"{query}: immich {[names[i] for i in search_immich(conn, query)]}")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
