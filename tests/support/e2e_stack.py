"""The whole product on 127.0.0.1, natively: PostgreSQL 15 (pgvector, zhparser when installed), Redis,
the sidecar with a random-weights cn-clip checkpoint, a stand-in upstream ML for faces, and the
patched Immich server (which also serves the patched web). Everything stops and is removed on close,
pass or fail: each process runs in its own process group and is killed with it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from .database import fresh_database, migrate, zhparser_available
from .immich_native import node_env
from .pgcluster import PgCluster
from .upstream import free_port

ROOT = Path(__file__).resolve().parents[2]


class FaceStandIn:
    """Upstream Immich ML for faces: answers facial-recognition with no faces, counts its requests."""

    def __init__(self) -> None:
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(200, b"pong", "text/plain")

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.requests += 1
                body = json.dumps({"facial-recognition": [], "imageHeight": 1, "imageWidth": 1}).encode()
                self._answer(200, body, "application/json")

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_build_data(target: Path, immich: Path) -> None:
    """What Immich's Docker image bakes into IMMICH_BUILD_DATA, with one-row geodata for tests (the core
    plugin's manifest without its WebAssembly, which needs upstream's extism toolchain)."""
    target.mkdir(parents=True)
    (target / "www").symlink_to(immich / "web" / "build")
    if (immich / "packages" / "plugin-core").is_dir():  # Immich 3
        plugin, source = target / "plugins" / "immich-plugin-core", immich / "packages" / "plugin-core"
    else:
        plugin, source = target / "corePlugin", immich / "plugins"
    plugin.mkdir(parents=True)
    shutil.copy(source / "manifest.json", plugin / "manifest.json")
    geodata = target / "geodata"
    geodata.mkdir()
    (geodata / "geodata-date.txt").write_text("2024-01-01T00:00:00Z")
    (geodata / "cities500.txt").write_text(
        "1796236\tShanghai\tShanghai\t上海\t31.22222\t121.45806\tP\tPPLA\tCN\t\t23\t\t\t\t24874500\t\t10\tAsia/Shanghai\t2024-01-01\n"
    )
    (geodata / "admin1CodesASCII.txt").write_text("CN.23\tShanghai\tShanghai\t1796231\n")
    (geodata / "admin2Codes.txt").write_text("CN.23.1\tShanghai\tShanghai\t1\n")
    country = {
        "type": "Feature",
        "properties": {"ADMIN": "China", "ADM0_A3": "CHN", "TYPE": "Sovereign country"},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[[[73.0, 18.0], [135.0, 18.0], [135.0, 54.0], [73.0, 54.0], [73.0, 18.0]]]],
        },
    }
    (geodata / "ne_10m_admin_0_countries.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [country]})
    )


def stop_groups(processes: list[subprocess.Popen], timeout: float = 20) -> None:
    """Each process's whole group: TERM to all, then KILL to any still running after the timeout."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Stack:
    def __init__(self, immich: Path, checkpoint_dir: Path, clip_model: str, ml_url_path: str = "") -> None:
        self.immich = immich
        self.ml_url_path = ml_url_path  # Immich 3 keeps a path on its ML URL (a proxy may serve ML under one)
        self.checkpoint_dir = checkpoint_dir
        self.clip_model = clip_model
        self.root = Path(tempfile.mkdtemp(prefix="aio-e2e-"))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.processes: list[subprocess.Popen] = []
        self.immich_process: subprocess.Popen | None = None
        self.pg: PgCluster | None = None
        self.faces: FaceStandIn | None = None

    # --- start ----------------------------------------------------------------------------------
    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _spawn(self, name: str, args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        return process

    def _wait(self, what: str, check, timeout: float, process: subprocess.Popen | None = None, log: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (requests.RequestException, OSError):
                pass
            if process is not None and process.poll() is not None:
                break
            time.sleep(0.5)
        tail = (self.logs / log).read_text(errors="replace")[-4000:] if log else ""
        raise RuntimeError(f"{what} did not come up within {timeout:.0f} s\n{tail}")

    def _start(self) -> None:
        self.pg = PgCluster().start()
        self.db_url = fresh_database(self.pg, "immich", schema=None)  # Immich migrates it at start

        self.redis_port = free_port()
        self._spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            dict(os.environ),
        )

        self.faces = FaceStandIn()
        self.sidecar_url = f"http://127.0.0.1:{free_port()}"
        sidecar_env = dict(
            os.environ,
            IMMICH_HOST="127.0.0.1",
            IMMICH_PORT=self.sidecar_url.rsplit(":", 1)[1],
            AIO_CLIP_MODEL_DIR=str(self.checkpoint_dir),
            AIO_CLIP_MODEL=self.clip_model,
            AIO_CLIP_ONNX_DIR=str(self.root / "onnx"),
            AIO_UPSTREAM_ML_URL=self.faces.url,
            AIO_DEVICE="cpu",
            MACHINE_LEARNING_MODEL_TTL="0",
            MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL=self.clip_model,
            MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION="PP-OCRv5_mobile",
        )
        sidecar = self._spawn("sidecar", [sys.executable, "-m", "sidecar", "serve"], sidecar_env)

        self.media = self.root / "media"
        self.media.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait(
            "sidecar", lambda: requests.get(self.sidecar_url + "/ping", timeout=2).ok, 300, sidecar, "sidecar.log"
        )
        self.start_immich()

    def start_immich(self, immich: Path | None = None) -> None:
        """Immich's server (the build given, else the stack's) on the stack's database and media; Immich
        runs its own migrations at start, then the aio migrations run, as the compose file does."""
        self.immich = immich or self.immich
        build_data = self.root / f"build-{len(self.processes)}"
        write_build_data(build_data, self.immich)
        immich_env = node_env(
            self.immich,
            DB_URL=self.db_url,
            DB_VECTOR_EXTENSION="pgvector",
            REDIS_HOSTNAME="127.0.0.1",
            REDIS_PORT=str(self.redis_port),
            IMMICH_HOST="127.0.0.1",
            IMMICH_PORT=str(self.port),
            IMMICH_MEDIA_LOCATION=str(self.media),
            IMMICH_MACHINE_LEARNING_URL=self.sidecar_url + self.ml_url_path,
            IMMICH_BUILD_DATA=str(build_data),
            IMMICH_LOG_LEVEL="log",
            NO_COLOR="1",
            TZ="UTC",
        )
        log = f"{self.immich.name}.log"
        self.immich_process = self._spawn(
            log.removesuffix(".log"), ["node", "dist/main.js"], immich_env, cwd=self.immich / "server"
        )
        self._wait(
            "Immich", lambda: requests.get(self.url + "/api/server/ping", timeout=2).ok, 300, self.immich_process, log
        )
        # The aio migrations run after Immich's (which the server ran at start), as the compose file does.
        mode = "zhparser" if zhparser_available() else "degraded"
        if migrate(self.db_url, "upgrade", "head", mode=mode) != 0:
            raise RuntimeError("aio migrations failed")
        self.search_mode = mode

    def stop_immich(self) -> None:
        """Stops Immich's server (its whole process group: workers and exiftool too), as `docker compose
        stop immich-server` does; the database, Redis, media and the sidecar stay."""
        process, self.immich_process = self.immich_process, None
        if process is not None:
            stop_groups([process])

    # --- API helpers ----------------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + "/api" + path, headers=headers, timeout=120, **kwargs)

    def sidecar_requests(self, task: str) -> float:
        """How many /predict requests of a task the sidecar has answered (its Prometheus counter)."""
        total = 0.0
        for line in requests.get(self.sidecar_url + "/metrics", timeout=10).text.splitlines():
            # task labels look like "ocr/detection+ocr/recognition": match on the task's prefix.
            if (
                line.startswith("aio_requests_total{")
                and 'endpoint="immich.predict"' in line
                and f'task="{task}/' in line
            ):
                total += float(line.rsplit(" ", 1)[1])
        return total

    # --- stop -----------------------------------------------------------------------------------
    def close(self) -> None:
        stop_groups(list(reversed(self.processes)))
        if self.faces is not None:
            self.faces.stop()
        if self.pg is not None:
            self.pg.stop()
        keep = os.environ.get("AIO_E2E_KEEP")  # for debugging: keep logs and media
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)
