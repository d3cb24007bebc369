"""The real service as users start it: `immich-sidecar serve` (gunicorn, 2 workers), over real HTTP."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

from .support.immich_requests import clip_textual, clip_visual, jpeg_bytes, ocr_entries
from .support.upstream import free_port
from .test_bad_input import BAD_IMAGES


@pytest.fixture(scope="module")
def server(checkpoint_dir, tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "IMMICH_HOST": "127.0.0.1",
        "IMMICH_PORT": str(port),
        "MACHINE_LEARNING_WORKERS": "2",
        "MACHINE_LEARNING_REQUEST_THREADS": "4",
        "MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL": "cn-clip-RN50",
        "MACHINE_LEARNING_CACHE_FOLDER": str(tmp_path_factory.mktemp("cache")),
        "AIO_CLIP_MODEL_DIR": str(checkpoint_dir),
        "AIO_DEVICE": "cpu",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
    }
    log = tmp_path_factory.mktemp("log") / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sidecar", "serve"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            # Both workers preload before serving; ask until a model shows as loaded.
            if requests.get(url + "/", timeout=2).json()["loaded"]:
                break
        except requests.RequestException:
            time.sleep(0.5)
        assert process.poll() is None, log.read_text()
    else:
        pytest.fail("server did not start:\n" + log.read_text())
    yield url, process, log
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def post(url, entries, **payload):
    files = {"entries": (None, json.dumps(entries))}
    if "image" in payload:
        files["image"] = ("blob", payload["image"], "application/octet-stream")
    if "text" in payload:
        files["text"] = (None, payload["text"])
    return requests.post(url + "/predict", files=files, timeout=120)


def test_ping_and_root(server):
    url, _, _ = server
    assert requests.get(url + "/ping").text == "pong"
    root = requests.get(url + "/").json()
    assert root["message"] == "Immich ML" and root["device"] == "cpu" and "clip/cn-clip-RN50" in root["loaded"]


def test_concurrent_requests_are_all_answered_correctly(server):
    url, _, _ = server
    texts = [f"第{i}张照片" for i in range(12)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: post(url, clip_textual("cn-clip-RN50"), text=t), texts))
    assert all(answer.status_code == 200 for answer in answers)
    vectors = [answer.json()["clip"] for answer in answers]
    assert len(set(vectors)) == len(texts)
    # Alone, each text gets its own vector again. Not to the last bit: texts that arrived together were encoded
    # as one batch, and a batch may take other CPU kernels than a single text.
    embeddings = np.array([json.loads(vector) for vector in vectors])
    for index, text in enumerate(texts[:3]):
        alone = np.array(json.loads(post(url, clip_textual("cn-clip-RN50"), text=text).json()["clip"]))
        assert np.allclose(alone, embeddings[index], atol=1e-5), "each caller got the answer to its own text"
        assert np.argmin(np.abs(embeddings - alone).max(axis=1)) == index


def test_bad_input_never_kills_a_worker(server):
    url, process, log = server
    before = worker_pids(process.pid)
    assert len(before) == 2
    for data, status, _ in BAD_IMAGES.values():
        for entries in (clip_visual("cn-clip-RN50"), ocr_entries()):
            assert post(url, entries, image=data).status_code == status
    assert (
        requests.post(url + "/predict", data=b"\xff" * 100, headers={"Content-Type": "multipart/form-data"}).status_code
        == 422
    )
    assert worker_pids(process.pid) == before, log.read_text()[-3000:]
    assert post(url, clip_visual("cn-clip-RN50"), image=jpeg_bytes()).status_code == 200


def test_metrics_and_request_log(server):
    url, _, log = server
    post(url, clip_textual("cn-clip-RN50"), text="日志")
    post(url, clip_visual("cn-clip-RN50"), image=b"")
    metrics = requests.get(url + "/metrics").text
    assert 'aio_requests_total{endpoint="immich.predict",status="200",task="clip/textual"}' in metrics
    assert 'aio_request_errors_total{endpoint="immich.predict",task="clip/visual"}' in metrics
    assert "aio_request_seconds_bucket" in metrics
    time.sleep(0.2)
    assert "task=clip/textual model=cn-clip-RN50 status=200 ms=" in log.read_text()
