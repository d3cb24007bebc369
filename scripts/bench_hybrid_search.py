#!/usr/bin/env python3
"""Hybrid search (CLIP + OCR fused, the smart-search path) on a large library, through the patched Immich.

Builds (or reuses) the patched Immich server (scripts/immich_build.sh --patched), starts a scratch
PostgreSQL 15, runs Immich's own migrations (vector extension: pgvector, whose HNSW index stands in for
VectorChord's) and aio's, then loads N photos into Immich's tables: assets, OCR boxes through the aio
triggers (bench_ocr_search.py's corpus) and a 512-dimension CLIP embedding each (random unit vectors),
with Immich's clip_index built over them. Then it calls the server's own SearchRepository for the first
page of 100: searchHybrid, as a smart search with hybrid search on runs it, searchSmart beside it, and
searchMetadata with the OCR filter (an `ocr:` search), and prints p50/p95 per method.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_ocr_search import PHOTOS_PER_STATEMENT, document  # noqa: E402

from tests.support.database import fresh_database, migrate  # noqa: E402
from tests.support.immich_native import build_immich, node_env  # noqa: E402
from tests.support.pgcluster import PgCluster, extension_available  # noqa: E402
from tests.support.search_corpus import QUERIES  # noqa: E402

# What each required column of Immich's asset table gets (the releases differ in which are required).
ASSET_COLUMNS = {
    "ownerId": '(SELECT id FROM "user" LIMIT 1)',
    "deviceAssetId": "n::text",
    "deviceId": "'bench'",
    "type": "'IMAGE'",
    "originalPath": "'/data/upload/' || n || '.jpg'",
    "originalFileName": "n || '.jpg'",
    "checksum": "sha256(n::text::bytea)",
    "checksumAlgorithm": "'sha1'",
    "fileCreatedAt": "timestamptz '2015-01-01' + (n %% 3650) * interval '1 day'",
    "fileModifiedAt": "timestamptz '2015-01-01'",
    "localDateTime": "timestamptz '2015-01-01' + (n %% 3650) * interval '1 day'",
}


def load(conn, count: int, seed: int) -> None:
    conn.execute("INSERT INTO \"user\" (email, name) VALUES ('bench@example.com', 'bench') ON CONFLICT DO NOTHING")
    required = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'asset' AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'"
        )
    ]
    columns = ", ".join(f'"{name}"' for name in required)
    values = ", ".join(ASSET_COLUMNS[name] for name in required)
    conn.execute(f"INSERT INTO asset ({columns}) SELECT {values} FROM generate_series(1, %s) AS n", (count,))
    ids = [row[0] for row in conn.execute('SELECT id FROM asset ORDER BY "originalPath"')]
    rng = random.Random(seed)
    for start in range(0, len(ids), PHOTOS_PER_STATEMENT):
        with conn.cursor().copy(
            'COPY asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) FROM STDIN'
        ) as copy:
            for ident in ids[start : start + PHOTOS_PER_STATEMENT]:
                lines = document(rng)
                for index, line in enumerate(lines):
                    top = index / len(lines)
                    copy.write_row((ident, 0.1, top, 0.9, top, 0.9, top + 0.05, 0.1, top + 0.05, 0.9, 0.95, line))
    # Immich's clip_index, built once over the loaded embeddings (as a reindex does) instead of row by row
    index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'clip_index'").fetchone()[0]
    conn.execute("DROP INDEX clip_index")
    conn.execute("SELECT setseed(%s)", (seed / 1000,))
    conn.execute(
        'INSERT INTO smart_search ("assetId", embedding) '
        "SELECT a.id, (SELECT l2_normalize(array_agg(random() - 0.5)::vector) FROM generate_series(1, 512) "
        "              WHERE a.id IS NOT NULL) FROM asset a"  # correlated: one vector per asset
    )
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute(index)
    conn.execute("VACUUM (ANALYZE)")  # as autovacuum does soon after a bulk load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--immich-version", default=os.environ.get("IMMICH_VERSION", "3.1.0"))
    args = parser.parse_args()
    if not extension_available("zhparser"):
        raise SystemExit("zhparser is not installed in PostgreSQL 15: this benchmark measures it")
    work, reason = build_immich("--patched", version=args.immich_version)
    if work is None:
        raise SystemExit(f"no Immich source to build: {reason}")

    cluster = PgCluster().start()
    try:
        url = fresh_database(cluster, "hybrid", immich_build=work)
        assert migrate(url, "upgrade", "head") == 0
        with psycopg.connect(url, autocommit=True) as conn:
            started = time.perf_counter()
            load(conn, args.documents, args.seed)
            seconds = time.perf_counter() - started
            print(f"loaded {args.documents} photos with OCR and CLIP embeddings in {seconds:.0f} s")
            user = str(conn.execute('SELECT id FROM "user" LIMIT 1').fetchone()[0])
            embeddings = [row[0] for row in conn.execute("SELECT embedding::text FROM smart_search LIMIT 7")]
        request = {"queries": list(QUERIES), "embeddings": embeddings, "userIds": [user], "repeats": args.repeats}
        result = subprocess.run(
            ["node", str(ROOT / "scripts" / "bench_hybrid_search.cjs"), str(work / "server"), json.dumps(request)],
            env=node_env(work, DB_URL=url),
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if result.returncode != 0:
            raise SystemExit(result.stderr[-3000:])
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        empty = [query for query, found in measured["counts"].items() if found == 0]
        assert not empty, f"hybrid search found nothing for {empty}"

        def pct(values, q):
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        print(f"Immich v{args.immich_version} patched, {len(QUERIES)} queries x {args.repeats} runs, first page of 100")
        print(f"{'method':<36}{'p50 ms':>10}{'p95 ms':>10}")
        methods = (
            ("hybrid", "searchHybrid (CLIP + OCR, fused)"),
            ("smart", "searchSmart (CLIP alone)"),
            ("ocr", "searchMetadata (ocr:, aio ranked)"),
        )
        for name, label in methods:
            values = measured["times"][name]
            print(f"{label:<36}{statistics.median(values):>10.1f}{pct(values, 0.95):>10.1f}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
