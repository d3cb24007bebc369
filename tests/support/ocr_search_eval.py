"""The labelled hard set (tests/support/hard_corpus.py) end to end: photos read by the sidecar's OCR, stored as
Immich stores OCR, then searched by aio and by Immich's own method and scored per category. Used by
tests/test_search_quality.py and scripts/eval_ocr_search.py."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable

from .aio_helpers import asset_id, search_aio, search_immich
from .hard_corpus import CATEGORIES, PHOTOS, QUERIES
from .immich_requests import immich_form, ocr_entries
from .immich_search import store_sql, tokenize_for_search


def read_photos(client) -> dict[str, dict]:
    """name -> the OCR answer of the sidecar (Immich's protocol) for each photo of the set."""
    answers = {}
    for photo in PHOTOS:
        response = client.post("/predict", data=immich_form(ocr_entries(), image=photo.jpeg()))
        if response.status_code != 200:
            raise RuntimeError(f"OCR of {photo.name} failed: {response.status_code} {response.get_data(as_text=True)}")
        answers[photo.name] = response.get_json()["ocr"]
    return answers


def store_as_immich(conn, answers: dict[str, dict]) -> None:
    """The boxes as Immich's OCR job stores them: asset_ocr rows and the ocr_search text."""
    for name, ocr in answers.items():
        ident = asset_id(name)
        conn.execute('INSERT INTO asset (id, "fileCreatedAt") VALUES (%s, now()) ON CONFLICT DO NOTHING', (ident,))
        rows = [
            (ident, *ocr["box"][8 * i : 8 * i + 8], ocr["boxScore"][i], ocr["textScore"][i], text)
            for i, text in enumerate(ocr["text"])
        ]
        with conn.cursor() as cur:
            cur.executemany(
                'INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text) '
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        conn.execute(store_sql(), (ident, " ".join(tokenize_for_search(" ".join(ocr["text"])))))


def character_recall(answers: dict[str, dict]) -> tuple[float, list[str]]:
    """Share of the photos' characters that OCR read (1 - edit distance / length, over the whole set).
    Full-width and half-width forms count as the same character, spaces do not count."""

    def plain(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    errors = total = 0
    report = []
    for photo in PHOTOS:
        expected = plain("".join(photo.lines))
        got = plain("".join(answers[photo.name]["text"]))
        distance = edit_distance(expected, got)
        errors += distance
        total += len(expected)
        report.append(f"{photo.name}: {1 - distance / len(expected):.3f} {got}")
    return 1 - errors / total, report


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


Search = Callable[..., list]


def score(search: Search, conn, queries: dict[str, tuple[str, list[str]]], k: int = 10) -> dict[str, dict]:
    """Per category and overall: MRR, precision@k (relevant share of what is shown; 0 when nothing is),
    recall@k, and the queries that found nothing relevant."""
    totals: dict[str, dict] = {}
    for query, (category, relevant_names) in queries.items():
        relevant = {asset_id(name) for name in relevant_names}
        shown = search(conn, query, k)
        first = next((i for i, ident in enumerate(shown, 1) if ident in relevant), None)
        hits = sum(ident in relevant for ident in shown)
        for key in (category, "overall"):
            row = totals.setdefault(
                key, {"queries": 0, "mrr": 0.0, "precision@10": 0.0, "recall@10": 0.0, "missed": []}
            )
            row["queries"] += 1
            row["mrr"] += 1 / first if first else 0
            row["precision@10"] += hits / len(shown) if shown else 0
            row["recall@10"] += hits / len(relevant)
            if not first:
                row["missed"].append(query)
    for row in totals.values():
        for measure in ("mrr", "precision@10", "recall@10"):
            row[measure] /= row["queries"]
    return totals


def evaluate(conn) -> dict[str, dict[str, dict]]:
    return {"aio": score(search_aio, conn, QUERIES), "immich": score(search_immich, conn, QUERIES)}


def table(results: dict[str, dict[str, dict]]) -> str:
    lines = [
        f"{'category':<12} {'n':>3}  {'aio MRR':>8} {'P@10':>6} {'R@10':>6}  {'Immich MRR':>10} {'P@10':>6} {'R@10':>6}"
    ]
    for category in (*CATEGORIES, "overall"):
        a, i = results["aio"][category], results["immich"][category]
        lines.append(
            f"{category:<12} {a['queries']:>3}  {a['mrr']:>8.3f} {a['precision@10']:>6.3f} {a['recall@10']:>6.3f}"
            f"  {i['mrr']:>10.3f} {i['precision@10']:>6.3f} {i['recall@10']:>6.3f}"
        )
    missed = {name: results[name]["overall"]["missed"] for name in results}
    lines.append("queries with nothing relevant in the first 10: " + json.dumps(missed, ensure_ascii=False))
    return "\n".join(lines)
