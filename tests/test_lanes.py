"""The interactive lane (sidecar/lanes.py): a search goes ahead of background work, background work is
bounded, niced and always answered. No timing here: blocked fake models show who waits for whom
(speed is measured by scripts/bench_search_while_indexing.py)."""

from __future__ import annotations

import io
import json
import os
import threading
from dataclasses import dataclass, replace

import numpy as np
import pytest

from sidecar import lanes
from sidecar.app import create_app
from sidecar.batching import Batcher
from sidecar.config import ConfigError, Settings, available_cores
from sidecar.lanes import BACKGROUND, INTERACTIVE, UPSTREAM, BackgroundLane, classify, in_niced_thread, thread_nice
from sidecar.models.base import OcrResult
from sidecar.models.names import CN_CLIP_MODELS
from sidecar.models.registry import ModelRegistry
from sidecar.protocol import parse_entries
from sidecar.state import sidecar_of

from .support.immich_requests import clip_textual, clip_visual, face_entries, immich_form, jpeg_bytes, ocr_entries

MODEL = "cn-clip-RN50"
WAIT = 30  # seconds: only a safety net against a hung test, never a measurement

# The nice the tests run at (`nice -n 10 .ci/run` is a fair way to run them beside other work): background threads
# are raised to the lane's nice, never lowered below the process's own (sidecar/lanes.py).
BASE_NICE = os.getpriority(os.PRIO_PROCESS, 0)


def by_task(entries: dict):
    return parse_entries(json.dumps(entries)).by_task


def test_lanes_are_decided_by_the_local_tasks():
    assert classify(by_task(clip_textual(MODEL))) == INTERACTIVE
    assert classify(by_task(clip_visual(MODEL))) == BACKGROUND
    assert classify(by_task(ocr_entries())) == BACKGROUND
    assert classify(by_task({**clip_textual(MODEL), **ocr_entries()})) == BACKGROUND  # not a search alone
    assert classify({}) == UPSTREAM  # faces: everything forwarded


class FakeClip:
    """CLIP whose image encoding can be held: records where each call ran and how many ran at once."""

    backend = "fake"
    device = "cpu"

    def __init__(self, info) -> None:
        self.info = info
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.running = self.most_running = 0
        self.image_threads: list[tuple[int, int]] = []  # (native id, nice) of each image call

    def encode_image(self, image) -> np.ndarray:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.image_threads.append((threading.get_native_id(), thread_nice()))
        self.entered.release()
        try:
            assert self.hold.wait(WAIT)
            return np.ones(4, np.float32) / 2
        finally:
            with self.lock:
                self.running -= 1

    def encode_text(self, text: str) -> np.ndarray:
        return np.ones(4, np.float32) / 2


@dataclass
class FakeOcr:
    backend: str = "fake"
    device: str = "cpu"
    weights: str = "none"

    def predict(self, image, min_detection_score, min_recognition_score, max_resolution) -> OcrResult:
        return OcrResult([], np.empty((0, 8), np.float32), np.empty(0, np.float32), np.empty(0, np.float32))


def fake_app(base_settings: Settings, **changes):
    settings = replace(base_settings, **changes)
    clip = FakeClip(CN_CLIP_MODELS[MODEL])
    loaded_at: list[int] = []  # nice of the thread that loaded the model

    def load(settings, info):
        loaded_at.append(thread_nice())
        return clip

    registry = ModelRegistry(settings, clip_factory=load, ocr_factory=lambda s: FakeOcr())
    return create_app(settings, registry), clip, loaded_at


def post_in_thread(app, form, results: list, index: int) -> threading.Thread:
    def run() -> None:
        results[index] = app.test_client().post("/predict", data=form).status_code

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_search_is_answered_while_every_background_slot_is_busy(base_settings):
    app, clip, _ = fake_app(base_settings, background_slots=1, background_nice=0)
    clip.encode_image(None)  # loaded: the first request is not the one loading the model
    assert clip.entered.acquire(timeout=WAIT)  # that call's own entry, so the wait below is a photo job's
    clip.image_threads.clear()
    clip.hold.clear()
    results: list = [None] * 3
    threads = [post_in_thread(app, immich_form(clip_visual(MODEL), jpeg_bytes()), results, i) for i in range(3)]
    assert clip.entered.acquire(timeout=WAIT)  # one photo job holds the only slot; two wait for it

    search = app.test_client().post("/predict", data=immich_form(clip_textual(MODEL), text="猫"))
    assert search.status_code == 200, "a search does not wait for the background lane"
    assert clip.running == 1 and results == [None] * 3, "the photo jobs were still held"

    clip.hold.set()
    for thread in threads:
        thread.join(WAIT)
    assert results == [200, 200, 200], "every background request is answered"
    assert clip.most_running == 1


def test_background_requests_holding_nearly_every_request_thread_are_logged(base_settings, caplog):
    app, clip, _ = fake_app(base_settings, background_slots=1, background_nice=0, request_threads=4)
    clip.hold.clear()
    results: list = [None] * 3
    threads = [post_in_thread(app, immich_form(clip_visual(MODEL), jpeg_bytes()), results, i) for i in range(3)]
    assert clip.entered.acquire(timeout=WAIT)
    state = sidecar_of(app)
    for _ in range(WAIT * 100):
        if state._held == 3:
            break
        threading.Event().wait(0.01)
    clip.hold.set()
    for thread in threads:
        thread.join(WAIT)
    assert results == [200] * 3
    assert "3 of 4 request threads hold background" in caplog.text


def test_a_burst_larger_than_the_background_lane_is_all_answered_and_bounded(base_settings):
    app, clip, _ = fake_app(base_settings, background_slots=2, background_nice=0)
    clip.hold.clear()
    burst = 9
    results: list = [None] * burst
    jobs = [clip_visual(MODEL), clip_visual(MODEL), ocr_entries()]  # Immich's mix
    threads = [post_in_thread(app, immich_form(jobs[i % 3], jpeg_bytes()), results, i) for i in range(burst)]
    for _ in range(2):
        assert clip.entered.acquire(timeout=WAIT)
    assert clip.running == 2  # the lane is full; the rest wait in their request threads
    clip.hold.set()
    for thread in threads:
        thread.join(WAIT)
    assert results == [200] * burst, "none refused, none dropped (Immich does not retry)"
    assert clip.most_running <= 2


def test_background_work_runs_in_niced_threads_and_models_load_at_normal_priority(base_settings):
    app, clip, loaded_at = fake_app(base_settings, background_slots=1, background_nice=7)
    response = app.test_client().post("/predict", data=immich_form(clip_visual(MODEL), jpeg_bytes()))
    assert response.status_code == 200
    ((native_id, nice),) = clip.image_threads
    assert native_id != threading.get_native_id(), "not in the request thread"
    assert nice == max(7, BASE_NICE)
    # The model was loaded in the request thread, at its priority: a text tower built in a niced thread
    # would keep that priority for every search.
    assert loaded_at == [thread_nice()]
    assert thread_nice() == BASE_NICE
    assert sidecar_of(app).background.native_ids == [native_id]


def test_the_off_switch_runs_everything_in_the_request_thread(base_settings):
    app, clip, _ = fake_app(base_settings, interactive_lane=False, background_nice=7)
    assert sidecar_of(app).background is None
    response = app.test_client().post("/predict", data=immich_form(clip_visual(MODEL), jpeg_bytes()))
    assert response.status_code == 200
    assert clip.image_threads == [(threading.get_native_id(), thread_nice())]


def test_a_failure_in_the_background_lane_is_the_callers_and_the_lane_goes_on(base_settings):
    app, clip, _ = fake_app(base_settings, background_slots=1, background_nice=0)

    def broken(image):
        raise ZeroDivisionError("boom")

    clip.encode_image = broken
    form = immich_form(clip_visual(MODEL), jpeg_bytes())
    assert app.test_client().post("/predict", data=form).status_code == 500
    bad = app.test_client().post("/predict", data=immich_form(clip_visual(MODEL), b"not an image"))
    assert bad.status_code == 400, "a bad upload is still the client's error"
    assert app.test_client().post("/predict", data=immich_form(ocr_entries(), jpeg_bytes())).status_code == 200


def test_metrics_show_the_wait_of_each_lane(base_settings):
    app, _, _ = fake_app(base_settings, background_slots=1, background_nice=0)
    client = app.test_client()
    assert client.post("/predict", data=immich_form(clip_visual(MODEL), jpeg_bytes())).status_code == 200
    assert client.post("/predict", data=immich_form(clip_textual(MODEL), text="猫")).status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    for lane in (INTERACTIVE, BACKGROUND):
        assert f'aio_lane_wait_seconds_count{{lane="{lane}"}}' in text
        assert f'aio_lane_requests_in_flight{{lane="{lane}"}} 0.0' in text


def test_forwarded_requests_take_no_background_slot(base_settings):
    from .support.upstream import UpstreamServer

    upstream = UpstreamServer().start()
    try:
        upstream.answer_json({"facial-recognition": []})
        app, _, _ = fake_app(base_settings, background_slots=1, background_nice=0, upstream_url=upstream.url)
        lane = sidecar_of(app).background
        taken = threading.Event()
        release = threading.Event()
        holder = threading.Thread(target=lane.run, args=(lambda: (taken.set(), release.wait(WAIT)),), daemon=True)
        holder.start()
        assert taken.wait(WAIT)  # the only slot is held
        try:
            response = app.test_client().post("/predict", data=immich_form(face_entries(), jpeg_bytes()))
            assert response.status_code == 200
        finally:
            release.set()
            holder.join(WAIT)
    finally:
        upstream.stop()


def test_mt_photos_endpoints_use_the_lanes(base_settings):
    app, clip, _ = fake_app(base_settings, background_slots=1, background_nice=7)
    client = app.test_client()
    headers = {"api-key": base_settings.mt_photos_api_key}
    image = {"file": (io.BytesIO(jpeg_bytes()), "a.jpg")}
    assert client.post("/clip/img", data=image, headers=headers).status_code == 200
    assert clip.image_threads[0][1] == max(7, BASE_NICE)
    assert client.post("/clip/txt", json={"text": "猫"}, headers=headers).status_code == 200
    image = {"file": (io.BytesIO(jpeg_bytes()), "a.jpg")}
    assert client.post("/ocr", data=image, headers=headers).status_code == 200


# --- the parts -----------------------------------------------------------------------------------------
def test_lane_threads_and_loaders_are_niced_and_the_caller_is_not():
    before = thread_nice()
    lane = BackgroundLane(slots=2, nice=before + 5)
    try:
        assert len(lane.native_ids) == 2
        assert all(thread_nice(native_id) == before + 5 for native_id in lane.native_ids)
        assert lane.run(thread_nice) == before + 5
        assert in_niced_thread(thread_nice, before + 3) == before + 3
        assert in_niced_thread(thread_nice, 0) == before  # 0: run here, as is
        assert thread_nice() == before
    finally:
        lane.close()


def test_a_niced_thread_passes_its_priority_to_the_threads_it_starts():
    """What the ONNX sessions of background work rely on: their intra-op threads inherit the nice value."""

    def child_nice() -> int:
        seen: list[int] = []
        thread = threading.Thread(target=lambda: seen.append(thread_nice()))
        thread.start()
        thread.join()
        return seen[0]

    assert in_niced_thread(child_nice, thread_nice() + 4) == thread_nice() + 4


def test_the_visual_batcher_thread_is_niced():
    seen: list[int] = []

    def run(batch):
        seen.append(thread_nice())
        return batch

    batcher = Batcher(run, max_size=4, max_wait_s=0, name="test-visual", nice=thread_nice() + 6)
    batcher.submit(np.zeros(3, np.float32))
    assert seen == [thread_nice() + 6]


def test_the_lane_answers_errors_and_keeps_order_of_arrival():
    lane = BackgroundLane(slots=1, nice=0)
    try:
        with pytest.raises(ZeroDivisionError):
            lane.run(lambda: 1 / 0)
        assert [lane.run(lambda i=i: i) for i in range(3)] == [0, 1, 2]
    finally:
        lane.close()


def test_ocr_sessions_are_built_without_spinning():
    pytest.importorskip("rapidocr")
    from rapidocr.inference_engine.onnxruntime.main import OrtInferSession

    from sidecar.models.ocr import _sessions_without_spinning

    class Config(dict):
        enable_cpu_mem_arena = False

    with _sessions_without_spinning():
        options = OrtInferSession._init_sess_opts(Config())
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    restored = OrtInferSession._init_sess_opts(Config())
    with pytest.raises(
        RuntimeError, match="allow_spinning"
    ):  # RapidOCR's own options again outside a load: the entry is not set
        restored.get_session_config_entry("session.intra_op.allow_spinning")


def test_lane_settings():
    defaults = Settings.from_env({})
    assert defaults.interactive_lane is True
    assert defaults.background_slots == available_cores()
    assert defaults.background_nice == 19
    assert defaults.request_threads == max(16, 4 * available_cores())
    chosen = Settings.from_env(
        {"AIO_INTERACTIVE_LANE": "false", "AIO_BACKGROUND_SLOTS": "3", "AIO_BACKGROUND_NICE": "0"}
    )
    assert (chosen.interactive_lane, chosen.background_slots, chosen.background_nice) == (False, 3, 0)
    for env in ({"AIO_BACKGROUND_NICE": "20"}, {"AIO_BACKGROUND_SLOTS": "0"}, {"AIO_INTERACTIVE_LANE": "maybe"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            Settings.from_env(env)


def test_lanes_module_stays_light():
    assert lanes.__doc__ and "torch" not in lanes.__dict__
