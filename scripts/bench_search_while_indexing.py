#!/usr/bin/env python3
"""Smart search while the library is being indexed: text-encoding latency and background throughput.

One searcher sends a CLIP text encoding about every 200 ms (what a smart search costs the ML service)
while N background clients send photo jobs back to back, as Immich's job queues do: each client cycles
CLIP image, CLIP image, OCR (Immich's defaults: smart search concurrency 2, OCR 1, so 3 clients), on
1440x1080 JPEG previews with some text on them. Cases: idle (the searcher alone) and N = 1, 3, 6.

Configurations, all served at once and measured in turn, round after round, so that the drift of a shared
machine falls on every configuration alike:
  old         the committed code (HEAD, extracted with `git archive` into a temporary folder)
  new         the working tree (interactive lane on: its defaults)
  new-nice0   the working tree, background threads at normal priority (AIO_BACKGROUND_NICE=0)
  new-slots1  the working tree, one background inference at a time (AIO_BACKGROUND_SLOTS=1)
  new-off     the working tree with AIO_INTERACTIVE_LANE=false (more request threads, no lanes)
  new-s<slots>n<nice>  other sizings of the lane: new-s1n0, new-s1n10, new-s1n19, new-s2n0, new-s2n19
The default (old, new; idle, 1, 3, 6 clients; 3 rounds) takes about 9 minutes on 2 cores.
All run cn-clip ViT-B-16 on ONNX Runtime int8 (random weights: same cost) and RapidOCR, on the CPU.
Prints per configuration and case: text p50/p95 ms, background jobs/s (OCR/s, CLIP/s), and the ratios of
each configuration to `old` in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sidecar.config import available_cores  # noqa: E402
from tests.support.checkpoints import build_random_checkpoint, checkpoint_cache_dir  # noqa: E402
from tests.support.imagegen import font_path  # noqa: E402
from tests.support.photos import photo  # noqa: E402
from tests.support.upstream import free_port  # noqa: E402

MODEL = "cn-clip-ViT-B-16"
CONFIGS: dict[str, dict[str, str]] = {
    "old": {},
    "new": {},
    "new-nice0": {"AIO_BACKGROUND_NICE": "0"},
    "new-slots1": {"AIO_BACKGROUND_SLOTS": "1"},
    "new-off": {"AIO_INTERACTIVE_LANE": "false"},
    # other sizings of the lane, to compare with the defaults
    "new-s1n0": {"AIO_BACKGROUND_SLOTS": "1", "AIO_BACKGROUND_NICE": "0"},
    "new-s1n10": {"AIO_BACKGROUND_SLOTS": "1", "AIO_BACKGROUND_NICE": "10"},
    "new-s1n19": {"AIO_BACKGROUND_SLOTS": "1", "AIO_BACKGROUND_NICE": "19"},
    "new-s2n0": {"AIO_BACKGROUND_SLOTS": "2", "AIO_BACKGROUND_NICE": "0"},
    "new-s2n19": {"AIO_BACKGROUND_SLOTS": "2", "AIO_BACKGROUND_NICE": "19"},
}
CLIP_IMAGE = {"clip": {"visual": {"modelName": MODEL, "options": {}}}}
CLIP_TEXT = {"clip": {"textual": {"modelName": MODEL, "options": {"language": "zh"}}}}
OCR = {
    "ocr": {
        "detection": {"modelName": "PP-OCRv5_mobile", "options": {"minScore": 0.5, "maxResolution": 736}},
        "recognition": {"modelName": "PP-OCRv5_mobile", "options": {"minScore": 0.8}},
    }
}
JOBS = (("clip", CLIP_IMAGE), ("clip", CLIP_IMAGE), ("ocr", OCR))  # one client's cycle
QUERIES = ["海边的日落", "一只在草地上奔跑的狗", "发票", "生日蛋糕和蜡烛", "雪山下的湖泊", "夜晚的城市街道", "猫"]
SIGNS = [("出口", "营业中"), ("禁止吸烟",), ("欢迎光临", "请勿停车"), ("北京南站", "2号线")]


def previews() -> list[bytes]:
    """Immich-sized previews (1440x1080 JPEG) of photo-like pictures with a sign or two of text."""
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path()), 56) if font_path() else ImageFont.load_default()
    out = []
    for seed, lines in enumerate(SIGNS):
        image = photo(1440, 1080, seed)
        draw = ImageDraw.Draw(image)
        for index, line in enumerate(lines):
            x, y = 120 + 300 * index, 200 + 380 * index
            draw.rectangle((x - 20, y - 20, x + 60 * len(line) + 20, y + 80), fill="white")
            draw.text((x, y), line, fill="black", font=font)
        buffer = BytesIO()
        image.save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


class Server:
    def __init__(self, name: str, code_root: Path, env_extra: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix=f"bench-{name}-")) / "server.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(code_root),
            "IMMICH_HOST": "127.0.0.1",
            "IMMICH_PORT": str(self.port),
            "IMMICH_LOG_LEVEL": "warning",
            "MACHINE_LEARNING_MODEL_TTL": "0",
            "AIO_DEVICE": "cpu",
            "AIO_CLIP_BACKEND": "onnx",
            "AIO_CLIP_ONNX_PRECISION": "int8",
            "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL": MODEL,
            "MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL": MODEL,
            "MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION": "PP-OCRv5_mobile",
            **env_extra,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with open(self.log, "wb") as output:
            # cwd first on sys.path (python -m): the configuration's own copy of the code is imported
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sidecar", "serve"],
                cwd=code_root,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        for _ in range(2400):
            try:
                if len(requests.get(self.url + "/", timeout=2).json()["loaded"]) >= 2:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.25)
        self.stop()
        raise SystemExit(f"{self.name} did not start:\n" + self.log.read_text())

    def has_lanes(self) -> bool:
        return b"aio_lane_wait_seconds" in requests.get(self.url + "/metrics", timeout=10).content

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def post(session: requests.Session, url: str, entries: dict, image: bytes | None = None, text: str | None = None):
    files = {"entries": (None, json.dumps(entries))}
    if image is not None:
        files["image"] = ("blob", image, "application/octet-stream")
    else:
        files["text"] = (None, text)
    return session.post(url + "/predict", files=files, timeout=600)


def measure(url: str, clients: int, seconds: float, photos: list[bytes], warmup: float) -> dict:
    """One cell: `clients` background clients and one searcher for `seconds` (after `warmup`)."""
    stop = threading.Event()
    window: list[float] = []  # [start, end] once the warm-up is over
    done: list[tuple[float, str]] = []  # (finished at, kind) of background jobs
    failures: list[str] = []
    searches: list[float] = []

    def background(index: int) -> None:
        session = requests.Session()
        jobs = itertools.islice(itertools.cycle(JOBS), index, None)  # clients out of step, like Immich's
        for number, (kind, entries) in enumerate(jobs):
            if stop.is_set():
                return
            response = post(session, url, entries, image=photos[(index + number) % len(photos)])
            if response.status_code != 200:
                failures.append(f"{kind} {response.status_code} {response.text[:200]}")
            done.append((time.perf_counter(), kind))

    def searcher() -> None:
        session = requests.Session()
        post(session, url, CLIP_TEXT, text="热身")  # keep-alive connection up
        while not window:
            time.sleep(0.01)
        for number in itertools.count():
            started = time.perf_counter()
            if started >= window[1]:
                return
            response = post(session, url, CLIP_TEXT, text=QUERIES[number % len(QUERIES)] + str(number))
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                failures.append(f"text {response.status_code}")
            searches.append(elapsed)
            time.sleep(max(0.0, 0.2 - elapsed))

    threads = [threading.Thread(target=background, args=(i,), daemon=True) for i in range(clients)]
    threads.append(threading.Thread(target=searcher, daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(warmup if clients else 0.3)
    start = time.perf_counter()
    window.extend((start, start + seconds))
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    in_window = [kind for at, kind in done if start <= at <= start + seconds]
    return {
        "searches": searches,
        "ocr": in_window.count("ocr"),
        "clip": in_window.count("clip"),
        "seconds": seconds,
        "failures": failures,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["old", "new"], choices=list(CONFIGS))
    parser.add_argument("--clients", nargs="+", type=int, default=[0, 1, 3, 6], help="0 is the idle case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per busy cell and round")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of background load before measuring")
    args = parser.parse_args()

    checkpoint_dir = Path(os.environ.get("AIO_CLIP_MODEL_DIR") or checkpoint_cache_dir())
    build_random_checkpoint(MODEL, checkpoint_dir)
    onnx_dir = Path(os.environ.get("AIO_CLIP_ONNX_DIR") or checkpoint_dir / "onnx")
    from sidecar.models.clip_onnx import export_exists
    from sidecar.models.names import CN_CLIP_MODELS

    if not export_exists(onnx_dir, CN_CLIP_MODELS[MODEL], "int8"):
        print(f"exporting {MODEL} to ONNX int8 in {onnx_dir} ...", flush=True)
        env = {**os.environ, "AIO_CLIP_MODEL_DIR": str(checkpoint_dir), "AIO_CLIP_ONNX_DIR": str(onnx_dir)}
        command = [sys.executable, "-m", "sidecar", "export-onnx", "--model", MODEL, "--precision", "int8"]
        subprocess.run(command, env=env, check=True, cwd=ROOT)
    base = {"AIO_CLIP_MODEL_DIR": str(checkpoint_dir), "AIO_CLIP_ONNX_DIR": str(onnx_dir)}

    old_root = Path(tempfile.mkdtemp(prefix="bench-old-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old_root)], input=archive, check=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)

    photos = previews()
    print(
        f"{MODEL} ONNX int8 + RapidOCR, {available_cores()} cores; old = HEAD {head.stdout.strip()}, new = working "
        f"tree; {args.rounds} rounds x ({args.idle_seconds:g} s idle, {args.seconds:g} s per busy cell)",
        flush=True,
    )
    servers: dict[str, Server] = {}
    try:
        for name in args.configs:
            servers[name] = Server(name, old_root if name == "old" else ROOT, {**base, **CONFIGS[name]})
        for server in servers.values():
            server.wait_ready()
            lanes = server.has_lanes()
            if lanes != (server.name != "old"):
                raise SystemExit(f"{server.name} serves the wrong code (lanes metrics present: {lanes})")
            session = requests.Session()
            for _kind, entries in JOBS:  # warm every path once
                post(session, server.url, entries, image=photos[0]).raise_for_status()
            post(session, server.url, CLIP_TEXT, text="热身").raise_for_status()
            print(f"  started {server.name} (log {server.log})", flush=True)

        runs: dict[tuple[str, int], list[dict]] = {}
        for round_number in range(args.rounds):
            for clients in args.clients:
                # the configurations alternate within each case, in a rotating order
                order = (
                    args.configs[round_number % len(args.configs) :] + args.configs[: round_number % len(args.configs)]
                )
                for name in order:
                    seconds = args.seconds if clients else args.idle_seconds
                    cell = measure(servers[name].url, clients, seconds, photos, args.warmup)
                    runs.setdefault((name, clients), []).append(cell)
            print(f"  round {round_number + 1}/{args.rounds} done", flush=True)
    finally:
        for server in servers.values():
            server.stop()

    results: dict[tuple[str, int], dict[str, float]] = {}
    for key, cells in runs.items():
        searches = [t for cell in cells for t in cell["searches"]]
        seconds = sum(cell["seconds"] for cell in cells)
        ocr, clip = sum(cell["ocr"] for cell in cells), sum(cell["clip"] for cell in cells)
        results[key] = {
            "n": len(searches),
            "p50": statistics.median(searches) * 1000,
            "p95": percentile(searches, 0.95) * 1000,
            "max": max(searches) * 1000,
            "ocr": ocr / seconds,
            "clip": clip / seconds,
            "jobs": (ocr + clip) / seconds,
            "failures": sum(len(cell["failures"]) for cell in cells),
        }
        for cell in cells:
            for failure in cell["failures"][:3]:
                print(f"  {key}: {failure}")

    print(
        f"\n{'config':<12}{'clients':>8}{'searches':>9}{'text p50':>10}{'p95':>8}{'max':>8}"
        f"{'jobs/s':>9}{'OCR/s':>8}{'CLIP/s':>8}{'failed':>8}"
    )
    for clients in args.clients:
        for name in args.configs:
            r = results[(name, clients)]
            print(
                f"{name:<12}{clients or 'idle':>8}{r['n']:>9}{r['p50']:>10.0f}{r['p95']:>8.0f}{r['max']:>8.0f}"
                f"{r['jobs']:>9.2f}{r['ocr']:>8.2f}{r['clip']:>8.2f}{r['failures']:>8}"
            )
    if "old" in args.configs:
        print("\nagainst old, same run: text p95 ratio, background jobs/s ratio")
        for name in args.configs:
            if name == "old":
                continue
            for clients in args.clients:
                r, o = results[(name, clients)], results[("old", clients)]
                jobs = f"{r['jobs'] / o['jobs']:.2f}" if clients else "-"
                print(f"  {name:<12}{clients or 'idle':>6}  p95 {r['p95'] / o['p95']:.2f}x  jobs/s {jobs}")


if __name__ == "__main__":
    main()
