#!/usr/bin/env python3
"""Latency and throughput of the sidecar through HTTP, as Immich calls it, one table per run.

For each CLIP configuration it starts `immich-sidecar serve`, sends CLIP image and CLIP text requests
from 1 and from 8 concurrent clients, and prints p50/p95 latency (ms) and requests per second. All
servers run at once and are measured in turn, round after round (--rounds), so that a drift in the
machine's speed affects every column alike; a cell's rate is that of its median round.
Configurations:
  baseline     torch fp32, one image per request, no batching (how the seed's mt-photos-ai serves cn-clip)
  torch-fp32   torch fp32 with micro-batching
  onnx-fp32    ONNX Runtime, fp32 export
  onnx-int8    ONNX Runtime, int8 (dynamic quantisation) export
  onnx-int8-2w the same with two gunicorn workers (MACHINE_LEARNING_WORKERS=2), one inference thread each
On a machine with a GPU (torch CUDA, or onnxruntime-gpu) the same columns are measured on it too.
Then OCR on photos with no text, a little text and dense text.

Without real checkpoints in AIO_CLIP_MODEL_DIR, random-weights ones of the same architecture are made
(same cost, meaningless answers); ONNX exports are made with `immich-sidecar export-onnx` when missing.
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

from sidecar.config import available_cores  # noqa: E402
from tests.support.checkpoints import build_random_checkpoint, checkpoint_cache_dir  # noqa: E402
from tests.support.imagegen import OCR_CORPUS, TextImage  # noqa: E402
from tests.support.photos import photo_jpeg  # noqa: E402
from tests.support.upstream import free_port  # noqa: E402

CONFIGS = {
    "baseline": {"AIO_CLIP_BACKEND": "torch", "AIO_BATCH_MAX_SIZE": "1"},
    "torch-fp32": {"AIO_CLIP_BACKEND": "torch"},
    "onnx-fp32": {"AIO_CLIP_BACKEND": "onnx", "AIO_CLIP_ONNX_PRECISION": "fp32"},
    "onnx-int8": {"AIO_CLIP_BACKEND": "onnx", "AIO_CLIP_ONNX_PRECISION": "int8"},
    # Two processes, one inference thread each: HTTP parsing and decoding escape the GIL of one worker.
    "onnx-int8-2w": {"AIO_CLIP_BACKEND": "onnx", "AIO_CLIP_ONNX_PRECISION": "int8", "MACHINE_LEARNING_WORKERS": "2"},
}
OCR_ENTRIES = {
    "ocr": {
        "detection": {"modelName": "PP-OCRv5_mobile", "options": {"minScore": 0.5, "maxResolution": 736}},
        "recognition": {"modelName": "PP-OCRv5_mobile", "options": {"minScore": 0.8}},
    }
}


class Server:
    def __init__(self, env_extra: dict[str, str], preload: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="bench-")) / "server.log"
        env = {
            **os.environ,
            "IMMICH_HOST": "127.0.0.1",
            "IMMICH_PORT": str(self.port),
            "IMMICH_LOG_LEVEL": "warning",
            "MACHINE_LEARNING_MODEL_TTL": "0",
            **preload,
            **env_extra,
        }
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sidecar", "serve"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for _ in range(1200):
            try:
                answer = requests.get(self.url + "/", timeout=2).json()
                if len(answer["loaded"]) >= len(set(preload.values())):
                    self.models = answer["models"]
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.25)
        self.stop()
        raise SystemExit("server did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def predict(
    session: requests.Session, url: str, entries: dict, image: bytes | None = None, text: str | None = None
) -> float:
    files = {"entries": (None, json.dumps(entries))}
    if image is not None:
        files["image"] = ("blob", image, "application/octet-stream")
    else:
        files["text"] = (None, text)
    started = time.perf_counter()
    response = session.post(url + "/predict", files=files, timeout=600)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def measure(url: str, payloads: list, entries: dict, clients: int, kind: str) -> dict[str, float]:
    sessions = [requests.Session() for _ in range(clients)]  # one keep-alive connection per client

    def client(index: int) -> list[float]:
        return [predict(sessions[index], url, entries, **{kind: p}) for p in payloads[index::clients]]

    for _ in range(2):
        predict(sessions[0], url, entries, **{kind: payloads[0]})  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(t for part in pool.map(client, range(clients)) for t in part)
    wall = time.perf_counter() - started
    return {"latencies": latencies, "rate": len(latencies) / wall}


def combine(runs: list[dict]) -> dict[str, float]:
    """One cell over its rounds: latency percentiles of all requests, the median round's throughput."""
    latencies = sorted(t for run in runs for t in run["latencies"])
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "max": latencies[-1],
        "rate": statistics.median(run["rate"] for run in runs),
    }


def gpu_devices() -> list[str]:
    probe = (
        "import onnxruntime as o, torch; print(int(torch.cuda.is_available()), "
        "int('CUDAExecutionProvider' in o.get_available_providers()))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split()
    return ["cuda"] if out and ("1" in out) else []


def ensure_exports(model: str, checkpoint_dir: Path, onnx_dir: Path) -> None:
    from sidecar.models.clip_onnx import export_is_current
    from sidecar.models.names import CN_CLIP_MODELS

    if all(export_is_current(onnx_dir, CN_CLIP_MODELS[model], p) for p in ("fp32", "int8")):
        return
    print(f"exporting {model} to ONNX in {onnx_dir} ...", flush=True)
    env = {**os.environ, "AIO_CLIP_MODEL_DIR": str(checkpoint_dir), "AIO_CLIP_ONNX_DIR": str(onnx_dir)}
    subprocess.run([sys.executable, "-m", "sidecar", "export-onnx", "--model", model], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="cn-clip-ViT-B-16")
    parser.add_argument("--requests", type=int, default=48, help="requests per cell, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all configurations (see below)")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--devices", nargs="+", help="cpu and/or cuda (default: cpu, and cuda when present)")
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--ocr-only", action="store_true", help="only the OCR rows")
    args = parser.parse_args()
    if args.ocr_only:
        bench_ocr({}, args.requests)
        return

    checkpoint_dir = Path(os.environ.get("AIO_CLIP_MODEL_DIR") or checkpoint_cache_dir())
    build_random_checkpoint(args.model, checkpoint_dir)
    onnx_dir = Path(os.environ.get("AIO_CLIP_ONNX_DIR") or checkpoint_dir / "onnx")
    ensure_exports(args.model, checkpoint_dir, onnx_dir)
    base_env = {"AIO_CLIP_MODEL_DIR": str(checkpoint_dir), "AIO_CLIP_ONNX_DIR": str(onnx_dir)}
    devices = args.devices or ["cpu", *gpu_devices()]

    photos = [photo_jpeg(1440, 1080, orientation, seed) for seed, orientation in enumerate((1, 6, 1, 3))]
    texts = ["海边的日落", "一只在草地上奔跑的狗", "发票", "生日蛋糕和蜡烛", "雪山下的湖泊", "夜晚的城市街道"]
    workloads = [
        ("CLIP image 1440x1080", {"clip": {"visual": {"modelName": args.model}}}, photos, "image"),
        ("CLIP text", {"clip": {"textual": {"modelName": args.model, "options": {"language": "zh"}}}}, texts, "text"),
    ]
    payloads = {name: [pool[i % len(pool)] for i in range(max(args.requests, 32))] for name, _, pool, _ in workloads}
    print(
        f"model {args.model}, {args.requests} requests per cell in {args.rounds} rounds, {available_cores()} cores, "
        f"cells: p50/p95 ms and req/s (median round)"
    )

    # Every configuration's server runs from the start and the cells are measured in rounds, each round
    # visiting every configuration: a shared machine's speed drifts by tens of percent over minutes, and
    # interleaving puts the drift into every column alike instead of into the ratios.
    servers: dict[tuple[str, str], Server] = {}
    try:
        for device in devices:
            for config in args.configs:
                servers[(device, config)] = Server(
                    {**base_env, **CONFIGS[config], "AIO_DEVICE": device},
                    {
                        "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL": args.model,
                        "MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL": args.model,
                    },
                )
                runs_on = next(iter(servers[(device, config)].models.values()))
                print(f"  started {device}/{config} ({runs_on['backend']} on {runs_on['device']})", flush=True)
        per_round = args.requests // args.rounds
        runs: dict[tuple[str, str], dict[tuple[str, int], list[dict]]] = {column: {} for column in servers}
        for round_number in range(args.rounds):
            for column, server in servers.items():
                for name, entries, _, kind in workloads:
                    for clients in (1, 8):
                        # at least 4 requests per client, or the 8-client rate is mostly ramp-up and tail
                        count = max(per_round, 4 * clients)
                        cell = measure(server.url, payloads[name][:count], entries, clients, kind)
                        runs[column].setdefault((name, clients), []).append(cell)
            print(f"  round {round_number + 1}/{args.rounds} done", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    results = {column: {cell: combine(parts) for cell, parts in cells.items()} for column, cells in runs.items()}

    columns = list(results)
    header = f"{'workload':<22}{'clients':>8}" + "".join(f"{d + '/' + c:>24}" for d, c in columns)
    print("\n" + header)
    for name, _, _, _ in workloads:
        for clients in (1, 8):
            cells = []
            for column in columns:
                r = results[column][(name, clients)]
                cells.append(f"{r['p50'] * 1000:.0f}/{r['p95'] * 1000:.0f} {r['rate']:.2f}/s")
            print(f"{name:<22}{clients:>8}" + "".join(f"{cell:>24}" for cell in cells))

    print("\nratios (same run, same machine)")
    for device in devices:
        baseline = results.get((device, "baseline"))
        for name, _, _, _ in workloads:
            for config in args.configs:
                r = results.get((device, config))
                if r is None:
                    continue
                one, eight = r[(name, 1)], r[(name, 8)]
                versus = ""
                if baseline:
                    versus = (
                        f"  vs baseline: {one['rate'] / baseline[(name, 1)]['rate']:.2f}x (1 client), "
                        f"{eight['rate'] / baseline[(name, 1)]['rate']:.2f}x (8 clients vs baseline 1 client)"
                    )
                print(
                    f"  {device}/{config:<11} {name:<22} 8/1 clients {eight['rate'] / one['rate']:.2f}x, "
                    f"slowest at 8 = {eight['max'] / one['p50']:.1f}x uncontended p50{versus}"
                )

    if not args.no_ocr:
        bench_ocr(base_env, args.requests)


def bench_ocr(base_env: dict[str, str], requests_per_cell: int) -> None:
    server = Server(
        {**base_env, "AIO_DEVICE": "cpu"}, {"MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION": "PP-OCRv5_mobile"}
    )
    try:
        sets = {
            "no text 1440x1080": [photo_jpeg(1440, 1080, 1, seed) for seed in range(4)],
            "little text 1440x1080": [
                TextImage("sign", (text,), size=(1440, 1080), background=bg).jpeg()
                for text, bg in (
                    ("出口", "#446688"),
                    ("营业中", "#884466"),
                    ("禁止吸烟", "#668844"),
                    ("欢迎光临", "#336699"),
                )
            ],
            "dense text 1000x800": [sample.jpeg() for sample in OCR_CORPUS if len("".join(sample.lines)) > 20][:4],
        }
        print(
            f"\nOCR (RapidOCR, {available_cores()} cores)\n{'images':<24}{'clients':>8}{'p50 ms':>10}{'p95 ms':>10}"
            f"{'req/s':>10}"
        )
        for name, pool in sets.items():
            payloads = [pool[i % len(pool)] for i in range(requests_per_cell)]
            for clients in (1, 8):
                r = combine([measure(server.url, payloads, OCR_ENTRIES, clients, "image")])
                print(
                    f"{name:<24}{clients:>8}{r['p50'] * 1000:>10.0f}{r['p95'] * 1000:>10.0f}{r['rate']:>10.2f}",
                    flush=True,
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
