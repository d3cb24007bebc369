#!/usr/bin/env python3
"""Latency and throughput of the sidecar through HTTP, as Immich calls it.

Starts `immich-sidecar serve` (or uses --url), then for CLIP image, CLIP text and OCR sends requests
from 1 and from 8 concurrent clients and prints p50/p95 latency and requests per second.
Without real checkpoints in AIO_CLIP_MODEL_DIR, random-weights ones of the same architecture are made
(same cost, meaningless answers).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.checkpoints import build_random_checkpoint, checkpoint_cache_dir  # noqa: E402
from tests.imagegen import OCR_CORPUS, TextImage  # noqa: E402
from tests.upstream import free_port  # noqa: E402


def start_server(model: str, env_extra: dict[str, str]) -> tuple[str, subprocess.Popen, Path]:
    checkpoint_dir = Path(os.environ.get("AIO_CLIP_MODEL_DIR") or checkpoint_cache_dir())
    build_random_checkpoint(model, checkpoint_dir)
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="bench-")) / "server.log"
    env = {**os.environ, "IMMICH_HOST": "127.0.0.1", "IMMICH_PORT": str(port), "AIO_CLIP_MODEL_DIR": str(checkpoint_dir),
           "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL": model, "MACHINE_LEARNING_PRELOAD__OCR": "PP-OCRv5_mobile",
           "IMMICH_LOG_LEVEL": "warning", **env_extra}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "sidecar", "serve"], env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if len(requests.get(url + "/", timeout=2).json()["loaded"]) >= 2:
                return url, process, log
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.5)
    raise SystemExit("server did not start:\n" + log.read_text())


def predict(url: str, entries: dict, image: bytes | None = None, text: str | None = None) -> float:
    files = {"entries": (None, json.dumps(entries))}
    if image is not None:
        files["image"] = ("blob", image, "application/octet-stream")
    else:
        files["text"] = (None, text)
    started = time.perf_counter()
    response = requests.post(url + "/predict", files=files, timeout=600)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def run(url: str, payloads: list, entries: dict, clients: int, kind: str) -> dict[str, float]:
    def one(payload):
        return predict(url, entries, **{kind: payload})

    one(payloads[0])  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(pool.map(one, payloads))
    wall = time.perf_counter() - started
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "rate": len(payloads) / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="benchmark a running sidecar instead of starting one")
    parser.add_argument("--model", default="cn-clip-ViT-B-16")
    parser.add_argument("--requests", type=int, default=24, help="requests per workload and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()

    process = None
    url = args.url
    if url is None:
        url, process, _ = start_server(args.model, {})
    try:
        photos = [TextImage("photo", (), size=(1440, 1080), background=color).jpeg()
                  for color in ("#336699", "#996633", "#339966", "#663399")]
        documents = [sample.jpeg() for sample in OCR_CORPUS]
        texts = ["海边的日落", "一只在草地上奔跑的狗", "发票", "生日蛋糕和蜡烛", "雪山下的湖泊", "夜晚的城市街道"]
        workloads = [
            ("CLIP image 1440x1080", {"clip": {"visual": {"modelName": args.model}}}, photos, "image"),
            ("CLIP text", {"clip": {"textual": {"modelName": args.model}}}, texts, "text"),
            ("OCR 1000x800 text", {"ocr": {"detection": {"modelName": "PP-OCRv5_mobile",
                                                         "options": {"minScore": 0.5, "maxResolution": 736}},
                                           "recognition": {"modelName": "PP-OCRv5_mobile",
                                                           "options": {"minScore": 0.8}}}}, documents, "image"),
        ]
        print(f"sidecar at {url}, model {args.model}, {args.requests} requests per cell, {os.cpu_count()} cores")
        print(f"{'workload':<24}{'clients':>8}{'p50 ms':>10}{'p95 ms':>10}{'req/s':>10}")
        for name, entries, pool, kind in workloads:
            payloads = [pool[i % len(pool)] for i in range(args.requests)]
            for clients in args.concurrency:
                result = run(url, payloads, entries, clients, kind)
                print(f"{name:<24}{clients:>8}{result['p50'] * 1000:>10.0f}{result['p95'] * 1000:>10.0f}"
                      f"{result['rate']:>10.2f}", flush=True)
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
