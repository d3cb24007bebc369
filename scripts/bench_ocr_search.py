#!/usr/bin/env python3
"""OCR search latency on a large library: aio (zhparser) against Immich v2.4.1's own method.

Starts a scratch PostgreSQL 15, creates Immich's tables, runs the aio migrations, loads N OCR
documents of realistic length (3-12 lines, mixed Chinese, digits and Latin, built from the test
corpus's lines and random numbers), then prints p50/p95 latency per method and the index sizes, and how
many first pages are the same as those of ranking every match (before aio's word lists).
Both methods run through their indexes and return the first 100 results in their own order.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.aio_helpers import AIO_SEARCH_SQL  # noqa: E402
from tests.support.database import fresh_database, migrate  # noqa: E402
from tests.support.immich_search import SEARCH_SQL, tokenize_for_search  # noqa: E402
from tests.support.pgcluster import PG_BIN, PgCluster, extension_available  # noqa: E402
from tests.support.search_corpus import DOCUMENTS, QUERIES  # noqa: E402

LINES = [line for lines in DOCUMENTS.values() for line in lines]
# The first page as the Immich patch asks for it: the OCR matches joined to the asset filters, best first.
FIRST_PAGE_SQL = (
    'SELECT a.id FROM asset a JOIN aio.ocr_search(%s) m ON m.asset_id = a.id WHERE a."deletedAt" IS NULL '
    'ORDER BY m.rank DESC, a."fileCreatedAt" DESC LIMIT %s'
)
# The first page as aio ranked it before the word lists (0004): every match ranked by the whole query.
EVERY_MATCH_SQL = (
    "SELECT a.id FROM asset a JOIN (SELECT d.asset_id, (CASE WHEN d.plain = (lower(%s) = aio.normalize(q.q)) "
    "THEN 1.5 ELSE 1 END * aio.ocr_rank(d.tsv, q.query))::real AS rank FROM aio.ocr_document d, "
    "(SELECT q, aio.ocr_query(q) AS query FROM (SELECT %s::text AS q) t OFFSET 0) q WHERE d.tsv @@ q.query) m "
    'ON m.asset_id = a.id WHERE a."deletedAt" IS NULL ORDER BY m.rank DESC, a."fileCreatedAt" DESC LIMIT %s'
)
KEY_WORD_SQL = "SELECT (aio.search_plan(%s)).key_word"
# Every match read, as a count or an OCR filter under another order reads them (the LIMIT applies to the count).
EVERY_MATCH_COUNT_SQL = "SELECT count(*) FROM aio.ocr_search(%s) LIMIT %s"
# The same set for a count or a filter, unranked (0010): what the patched Immich v3.1.0 asks where it needs no order.
MATCHING_COUNT_SQL = "SELECT count(*) FROM aio.ocr_matching_assets(%s) LIMIT %s"
# What showing why each photo matched adds to a search (0008): the matched lines of its page of 100 results (one
# aio.ocr_matches call for the page) and the matched OCR boxes of the photo the viewer opens (aio.ocr_box_matches).
MATCHED_LINES_SQL = "SELECT count(*) FROM aio.ocr_matches(%s::uuid[], %s)"
MATCHED_BOXES_SQL = "SELECT count(*) FROM aio.ocr_box_matches(%s, %s)"
# Query forms that cost the most: one very frequent character, 20 words joined by OR, a 512-character
# query, a phrase of common words.
SLOW_FORMS = {
    "one frequent character": "票",
    "20 words OR": " OR ".join(
        [
            "发票",
            "医院",
            "公园",
            "地铁",
            "上海",
            "机场",
            "咖啡",
            "菜单",
            "票价",
            "南京",
            "学生",
            "快递",
            "合同",
            "春节",
            "虹桥",
            "海南",
            "火锅",
            "超市",
            "银行",
            "电影",
        ]
    ),
    "512 characters": ("上海增值税专用发票 价税合计 1280.00 " * 30)[:512],
    "phrase of common words": '"上海市 出租汽车 统一 发票"',
}


def document(rng: random.Random) -> list[str]:
    lines = rng.sample(LINES, rng.randint(3, 12))
    return [line.replace("12", str(rng.randint(10, 99))) if rng.random() < 0.3 else line for line in lines]


# OCR boxes go in one statement per this many photos, as Immich's OCR job writes one photo's boxes per
# statement. The aio trigger fires once per statement with every photo of it: one COPY of 1 000 000
# photos' boxes did not finish in 35 min, where 100 000 took 78 s.
PHOTOS_PER_STATEMENT = 2000


def load(conn, count: int, seed: int) -> None:
    rng = random.Random(seed)
    assets, search = io.StringIO(), io.StringIO()
    boxes: list[io.StringIO] = []
    for number in range(count):
        if number % PHOTOS_PER_STATEMENT == 0:
            boxes.append(io.StringIO())
        ident = uuid.UUID(int=rng.getrandbits(128))
        day = rng.randint(0, 3650)
        assets.write(f"{ident}\t2015-01-01 00:00:00+00\t{day}\n")
        lines = document(rng)
        for index, line in enumerate(lines):
            top = index / len(lines)
            corners = f"0.1\t{top}\t0.9\t{top}\t0.9\t{top + 0.05}\t0.1\t{top + 0.05}"
            boxes[-1].write(f"{ident}\t{corners}\t0.9\t0.95\t{line}\n")
        search.write(f"{ident}\t{' '.join(tokenize_for_search(' '.join(lines)))}\n")
    conn.execute("CREATE TEMP TABLE staging (id uuid, base timestamptz, days int)")
    with conn.cursor().copy("COPY staging FROM STDIN") as copy:
        copy.write(assets.getvalue())
    conn.execute("INSERT INTO asset (id, \"fileCreatedAt\") SELECT id, base + days * interval '1 day' FROM staging")
    for chunk in boxes:
        with conn.cursor().copy(
            'COPY asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) FROM STDIN'
        ) as copy:
            copy.write(chunk.getvalue())
    with conn.cursor().copy('COPY ocr_search ("assetId", text) FROM STDIN') as copy:
        copy.write(search.getvalue())
    # As autovacuum does soon after a bulk load: statistics, and the visibility map that lets aio read its
    # word lists from the index alone.
    conn.execute("VACUUM (ANALYZE)")


def timings(conn, sql: str, argument, repeats: int) -> list[float]:
    values = []
    for _ in range(repeats):
        started = time.perf_counter()
        conn.execute(sql, (argument, 100)).fetchall()
        values.append(time.perf_counter() - started)
    return values


def match_timings(conn, queries, repeats: int) -> tuple[list[float], list[float]]:
    """(lines of a page of 100, boxes of its first photo) per query and run, in seconds."""
    lines, boxes = [], []
    for query in queries:
        ids = [row[0] for row in conn.execute(FIRST_PAGE_SQL, (query, 100))]
        for _ in range(repeats):
            started = time.perf_counter()
            conn.execute(MATCHED_LINES_SQL, (ids, query)).fetchall()
            lines.append(time.perf_counter() - started)
            if ids:
                started = time.perf_counter()
                conn.execute(MATCHED_BOXES_SQL, (ids[0], query)).fetchall()
                boxes.append(time.perf_counter() - started)
    return lines, boxes


def compare(url: str, revision: str, repeats: int, pct) -> None:
    """The first pages at `revision` and at head, in alternating rounds on the same corpus (the machine's speed
    drifts within minutes: only an interleaved ratio is fair); a downgrade and upgrade between them."""
    pages: dict[str, dict[str, list[float]]] = {revision: {}, "head": {}}
    for _ in range(4):
        for name in pages:
            assert (
                migrate(url, "downgrade" if name == revision else "upgrade", revision if name == revision else None)
                == 0
            )
            # a new connection each time: it takes the database's settings of that revision (0015 turns JIT off)
            with psycopg.connect(url, autocommit=True) as conn:
                for query in QUERIES:
                    pages[name].setdefault(query, []).extend(timings(conn, FIRST_PAGE_SQL, query, repeats))
    print(f"first page, interleaved with {revision} (4 rounds x {repeats} runs of each query)")
    print(f"{'query':<16}{revision + ' p50':>26}{'head p50':>12}")
    for query in QUERIES:
        print(
            f"{query:<16}{statistics.median(pages[revision][query]) * 1000:>26.1f}"
            f"{statistics.median(pages['head'][query]) * 1000:>12.1f}"
        )
    for name, by_query in pages.items():
        values = [value for runs in by_query.values() for value in runs]
        print(f"{name:<16}first page p50 {statistics.median(values) * 1000:.1f} ms, p95 {pct(values, 0.95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-check", action="store_true", help="skip timing `db check` (15 min at 1 000 000)")
    parser.add_argument(
        "--explain-slowest", action="store_true", help="print the executed plan of the slowest first page"
    )
    parser.add_argument(
        "--compare",
        metavar="REVISION",
        help="also time the first pages at this earlier aio revision, interleaved with head on the same corpus "
        "(across a revision that changes the documents' form, each switch rebuilds every document: slow)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the scratch PostgreSQL running with its loaded library and print its URL, for --database",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="measure this already loaded library (one kept by --keep, upgraded to head first) instead of "
        "loading a new one: loading 1 000 000 photos takes 40 min",
    )
    args = parser.parse_args()
    if not extension_available("zhparser"):
        raise SystemExit("zhparser is not installed in PostgreSQL 15: this benchmark measures it")

    cluster = None if args.database else PgCluster().start()
    try:
        if cluster is None:
            url = args.database
            assert migrate(url, "upgrade") == 0
            with psycopg.connect(url, autocommit=True) as conn:
                count = conn.execute("SELECT count(*) FROM aio.ocr_document").fetchone()[0]
            print(f"measuring the library at {url}: {count} documents")
        else:
            url = fresh_database(cluster, "bench")
            assert migrate(url, "upgrade") == 0
            with psycopg.connect(url, autocommit=True) as conn:
                started = time.perf_counter()
                load(conn, args.documents, args.seed)
            print(
                f"loaded {args.documents} documents in {time.perf_counter() - started:.0f} s "
                "(asset_ocr inserts, aio triggers included)"
            )
        with psycopg.connect(url, autocommit=True) as conn:
            aio, immich, page = [], [], []
            page_by_query: dict[str, list[float]] = {}
            for query in QUERIES:
                aio += timings(conn, AIO_SEARCH_SQL, query, args.repeats)
                immich += timings(conn, SEARCH_SQL, " ".join(tokenize_for_search(query)), args.repeats)
                page_by_query[query] = timings(conn, FIRST_PAGE_SQL, query, args.repeats)
                page += page_by_query[query]
            forms = {name: timings(conn, FIRST_PAGE_SQL, query, args.repeats) for name, query in SLOW_FORMS.items()}
            forms["20 words OR, every match"] = timings(
                conn, EVERY_MATCH_COUNT_SQL, SLOW_FORMS["20 words OR"], args.repeats
            )
            forms["20 words OR, count/filter"] = timings(
                conn, MATCHING_COUNT_SQL, SLOW_FORMS["20 words OR"], args.repeats
            )
            matched_lines, matched_boxes = match_timings(conn, QUERIES, args.repeats)
            sizes = conn.execute(
                "SELECT pg_size_pretty(pg_relation_size('aio.ocr_document_tsv_idx')), "
                "pg_size_pretty(pg_total_relation_size('aio.ocr_document')), "
                "pg_size_pretty(pg_relation_size('idx_ocr_search_text')), "
                "pg_size_pretty(pg_total_relation_size('ocr_search')), "
                "pg_size_pretty(pg_indexes_size('aio.ocr_word')), "
                "pg_size_pretty(pg_total_relation_size('aio.ocr_word')), "
                "(SELECT count(*) FROM aio.ocr_word)"
            ).fetchone()
            by_asset = conn.execute("SELECT pg_size_pretty(pg_relation_size('aio.ocr_word_of_asset'))").fetchone()[0]
            # `db check` (and `db upgrade` after a move to another build) reads every photo; a repair, per batch
            check_seconds = repair_seconds = differ = None
            if not args.no_check:
                started = time.perf_counter()
                differ = conn.execute("SELECT count(*) FROM aio.check_ocr()").fetchone()[0]
                check_seconds = time.perf_counter() - started
                started = time.perf_counter()
                conn.execute("SELECT aio.repair_ocr(array(SELECT asset_id FROM aio.ocr_document LIMIT 2000))")
                repair_seconds = time.perf_counter() - started
            listed = [q for q in QUERIES if conn.execute(KEY_WORD_SQL, (q,)).fetchone()[0] is not None]
            same = sum(
                conn.execute(FIRST_PAGE_SQL, (q, 100)).fetchall()
                == conn.execute(EVERY_MATCH_SQL, (q, q, 100)).fetchall()
                for q in QUERIES
            )

        def pct(values, q):
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        print(f"{len(QUERIES)} queries x {args.repeats} runs, first 100 results each")
        print(f"{'method':<28}{'p50 ms':>10}{'p95 ms':>10}{'index':>12}{'table+index':>14}")
        print(
            f"{'aio (zhparser, ranked)':<28}{statistics.median(aio) * 1000:>10.1f}{pct(aio, 0.95):>10.1f}"
            f"{sizes[0]:>12}{sizes[1]:>14}"
        )
        print(
            f"{'immich v2.4.1 (bigram %>>)':<28}{statistics.median(immich) * 1000:>10.1f}{pct(immich, 0.95):>10.1f}"
            f"{sizes[2]:>12}{sizes[3]:>14}"
        )
        print(f"{'aio.ocr_word (lists)':<28}{'':>20}{sizes[4]:>12}{sizes[5]:>14}   {sizes[6]} rows")
        print(f"  of which the index by photo (ocr_word_of_asset): {by_asset}")
        if check_seconds is not None:
            print(
                f"db check, every photo: {check_seconds:.1f} s ({differ} problems); "
                f"repair of one batch of 2000 photos: {repair_seconds:.1f} s"
            )
        print(f"{'aio first page (asset join)':<28}{statistics.median(page) * 1000:>10.1f}{pct(page, 0.95):>10.1f}")
        print(
            f"  {len(listed)} of {len(QUERIES)} queries read a word list; {same} of {len(QUERIES)} first pages are "
            "those of ranking every match by the whole query"
        )
        print(
            f"{'matched lines, page of 100':<28}{statistics.median(matched_lines) * 1000:>10.1f}"
            f"{pct(matched_lines, 0.95):>10.1f}   added to the search (aio.ocr_matches)"
        )
        print(
            f"{'matched boxes, one photo':<28}{statistics.median(matched_boxes) * 1000:>10.1f}"
            f"{pct(matched_boxes, 0.95):>10.1f}   when the viewer opens it (aio.ocr_box_matches)"
        )
        for name, values in forms.items():
            print(f"  {name:<26}{statistics.median(values) * 1000:>10.1f}{pct(values, 0.95):>10.1f}")
        slowest = sorted(page_by_query, key=lambda q: statistics.median(page_by_query[q]), reverse=True)[:5]
        print(
            "  slowest first pages (median ms): "
            + ", ".join(f"{q} {statistics.median(page_by_query[q]) * 1000:.1f}" for q in slowest)
        )
        if args.explain_slowest:
            with psycopg.connect(url, autocommit=True) as conn:
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + FIRST_PAGE_SQL, (slowest[0], 100)).fetchall()
            print(f"  the slowest, {slowest[0]}, as executed:")
            print("\n".join("    " + row[0] for row in plan))
        if args.compare:
            compare(url, args.compare, args.repeats, pct)
    finally:
        if cluster is not None and args.keep:
            print(
                f"kept: --database '{url}' (stop it with {PG_BIN / 'pg_ctl'} -D {cluster.data} stop, as the user "
                f"postgres when run as root; then rm -r {cluster.root})"
            )
        elif cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
