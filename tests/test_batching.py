"""Micro-batching: concurrent requests coalesce, every caller gets its own row, failures reach all."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from sidecar.batching import Batcher


class SlowDouble:
    """A model stand-in: doubles each row, takes a while per batch, records batch sizes."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.sizes: list[int] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.sizes.append(len(batch))
        time.sleep(self.seconds)
        return batch * 2


def submit_all(batcher: Batcher, rows: list[np.ndarray]) -> list[np.ndarray]:
    results: list[np.ndarray | BaseException | None] = [None] * len(rows)
    start = threading.Barrier(len(rows))

    def call(index: int) -> None:
        start.wait()
        try:
            results[index] = batcher.submit(rows[index])
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            results[index] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(rows))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results  # type: ignore[return-value]


def test_concurrent_requests_coalesce_and_each_gets_its_row():
    model = SlowDouble()
    batcher = Batcher(model, max_size=8, max_wait_s=0, name="t")
    rows = [np.full(3, i, dtype=np.float32) for i in range(16)]
    results = submit_all(batcher, rows)
    for i, result in enumerate(results):
        assert np.array_equal(result, rows[i] * 2)
    assert sum(model.sizes) == 16
    assert len(model.sizes) < 16 and max(model.sizes) > 1  # batches formed
    assert max(model.sizes) <= 8  # and stayed within the bound


def test_a_single_caller_waits_for_nothing():
    model = SlowDouble(0)
    batcher = Batcher(model, max_size=8, max_wait_s=0, name="t")
    batcher.submit(np.zeros(2))  # starts the thread
    started = time.perf_counter()
    assert np.array_equal(batcher.submit(np.ones(2)), np.full(2, 2))
    assert time.perf_counter() - started < 0.05
    assert model.sizes == [1, 1]


def test_max_wait_lets_a_batch_fill():
    model = SlowDouble(0)
    batcher = Batcher(model, max_size=4, max_wait_s=0.3, name="t")
    results = []
    threads = [
        threading.Thread(target=lambda i=i: (time.sleep(0.03 * i), results.append(batcher.submit(np.full(1, i)))))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert model.sizes == [4]  # staggered arrivals, one batch
    assert sorted(float(r[0]) for r in results) == [0, 2, 4, 6]


def test_a_failing_batch_fails_its_callers_and_the_next_batch_works():
    calls = []

    def flaky(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        time.sleep(0.02)
        if len(calls) == 1:
            raise MemoryError("out of memory in the model")
        return batch + 1

    batcher = Batcher(flaky, max_size=8, max_wait_s=0.05, name="t")
    first = submit_all(batcher, [np.zeros(1) for _ in range(4)])
    failed = [r for r in first if isinstance(r, MemoryError)]
    assert failed, "the failing batch's callers see the model's error"
    assert all(isinstance(r, MemoryError) or np.array_equal(r, np.ones(1)) for r in first)
    assert np.array_equal(batcher.submit(np.zeros(1)), np.ones(1))


def test_a_model_returning_the_wrong_number_of_rows_is_an_error():
    batcher = Batcher(lambda batch: batch[:1], max_size=8, max_wait_s=0.1, name="t")
    results = submit_all(batcher, [np.zeros(1), np.zeros(1)])
    assert any(isinstance(r, RuntimeError) and "inputs gave" in str(r) for r in results)


def test_an_idle_batcher_lets_its_thread_and_its_model_go():
    """After MACHINE_LEARNING_MODEL_TTL unloads a model, no batcher thread may keep it in memory."""
    import gc
    import weakref

    model = SlowDouble(0)
    released = weakref.ref(model)
    batcher = Batcher(model, max_size=8, max_wait_s=0, name="t", idle_exit_s=0.1)

    def wait_idle(batcher: Batcher) -> None:
        deadline = time.monotonic() + 5
        while batcher.running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not batcher.running

    assert np.array_equal(batcher.submit(np.ones(2)), np.full(2, 2))
    wait_idle(batcher)
    assert np.array_equal(batcher.submit(np.ones(2)), np.full(2, 2))  # a new thread serves the next request
    wait_idle(batcher)
    del batcher, model
    gc.collect()
    assert released() is None


def test_batched_clip_matches_unbatched_under_concurrency(base_settings, photos_small):
    from sidecar.models.names import CN_CLIP_MODELS
    from sidecar.models.registry import _load_clip

    info = CN_CLIP_MODELS["cn-clip-RN50"]
    batched = _load_clip(replace(base_settings, batch_max_size=8), info)
    single = _load_clip(replace(base_settings, batch_max_size=1), info)
    expected = [single.encode_image(image) for image in photos_small]
    results: list = [None] * len(photos_small)

    def call(index: int) -> None:
        results[index] = batched.encode_image(photos_small[index])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(photos_small))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for want, got in zip(expected, results, strict=True):
        assert float(np.dot(want, got)) > 0.9999
    batches, rows = batched.stats()["visual"]
    assert rows == len(photos_small) and batches < rows
    assert single.stats() == {}
    texts = ["发票", "海边的日落", "猫"]
    assert all(float(np.dot(single.encode_text(t), batched.encode_text(t))) > 0.9999 for t in texts)


@pytest.fixture(scope="module")
def photos_small():
    from sidecar.images import decode_image

    from .support.photos import photo_jpeg

    return [decode_image(photo_jpeg(320 + 16 * i, 240, 1 + (i % 2) * 5, seed=i), 10**8) for i in range(6)]
