"""Loading a corpus into Immich's tables the way Immich does, and searching it both ways."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from .immich_search import SEARCH_SQL, store_sql, tokenize_for_search
from .search_corpus import DOCUMENTS

# What the Immich patch runs: aio.ocr_search's matches in its rank order.
AIO_SEARCH_SQL = "SELECT asset_id FROM aio.ocr_search(%s) ORDER BY rank DESC, asset_id LIMIT %s"


def asset_id(name: str) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(name.encode()).hexdigest())


def insert_ocr(conn, name: str, lines: list[str]) -> uuid.UUID:
    """One asset with its OCR boxes (one line each, top to bottom), as Immich's OCR job stores them."""
    created = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        hours=int(hashlib.md5(name.encode()).hexdigest()[:6], 16) % 8000
    )
    ident = asset_id(name)
    conn.execute('INSERT INTO asset (id, "fileCreatedAt") VALUES (%s, %s) ON CONFLICT DO NOTHING', (ident, created))
    rows = []
    for index, line in enumerate(lines):
        top = 0.05 + index * 0.1
        rows.append((ident, 0.1, top, 0.9, top, 0.9, top + 0.06, 0.1, top + 0.06, 0.9, 0.95, line))
    with conn.cursor() as cur:
        cur.executemany(
            'INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    conn.execute(store_sql(), (ident, " ".join(tokenize_for_search(" ".join(lines)))))
    return ident


def load_corpus(conn, cases: dict[str, list[str]]) -> None:
    """The search corpus (its photos named corpus0, corpus1, ...) and a test's own photos, as Immich stores them."""
    for name, lines in {**{f"corpus{i}": v for i, v in enumerate(DOCUMENTS.values())}, **cases}.items():
        insert_ocr(conn, name, lines)


def search_aio(conn, query: str, limit: int = 10) -> list[uuid.UUID]:
    return [row[0] for row in conn.execute(AIO_SEARCH_SQL, (query, limit)).fetchall()]


def search_immich(conn, query: str, limit: int = 10) -> list[uuid.UUID]:
    return [row[0] for row in conn.execute(SEARCH_SQL, (" ".join(tokenize_for_search(query)), limit)).fetchall()]


def evaluate(search, conn, queries: dict[str, list[str]], k: int = 10) -> dict[str, float]:
    """MRR, precision@k (relevant share of what is shown; 0 when nothing is) and recall@k."""
    reciprocal = precision = recall = 0.0
    for query, relevant_names in queries.items():
        relevant = {asset_id(name) for name in relevant_names}
        shown = search(conn, query, k)
        first = next((i for i, ident in enumerate(shown, 1) if ident in relevant), None)
        reciprocal += 1 / first if first else 0
        hits = sum(ident in relevant for ident in shown)
        precision += hits / len(shown) if shown else 0
        recall += hits / len(relevant)
    n = len(queries)
    return {"mrr": reciprocal / n, "precision@10": precision / n, "recall@10": recall / n}
