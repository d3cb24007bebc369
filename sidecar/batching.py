"""Micro-batching: concurrent requests for the same model tower run as one batch.

Each request prepares its own input (decode, resize, tokenise) in its own thread, then hands the
prepared row to the tower's batcher and waits. One thread per tower runs the model on everything
queued at that moment (at most `max_size` rows, waiting at most `max_wait_s` for more), then hands each
caller its own row of the result. With one client nothing waits; with many, rows queue up while a
batch runs and the next batch takes them all, so preparation overlaps inference.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from .lanes import lower_own_priority

log = logging.getLogger(__name__)

RunBatch = Callable[[np.ndarray], np.ndarray]

# A batcher's thread ends after this long without work, so that a model unloaded for idleness
# (MACHINE_LEARNING_MODEL_TTL) is not kept alive by the thread that ran it; the next request starts one.
IDLE_EXIT_S = 30.0


class Batcher:
    def __init__(
        self,
        run: RunBatch,
        max_size: int,
        max_wait_s: float,
        name: str,
        idle_exit_s: float = IDLE_EXIT_S,
        nice: int = 0,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        self._run = run
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self.name = name
        self.idle_exit_s = idle_exit_s
        self.nice = nice  # the batch thread lowers its priority to this (background towers: sidecar/lanes.py)
        self._queue: queue.Queue[tuple[np.ndarray, Future]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # counters for tests and metrics
        self.rows = 0

    def submit(self, row: np.ndarray) -> np.ndarray:
        """The model's output for one prepared input row; raises what the model raised."""
        future: Future = Future()
        with self._start_lock:  # the same lock the idle thread takes to leave: no row is left unserved
            self._queue.put((row, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"batch-{self.name}", daemon=True)
                self._thread.start()
        return future.result()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _next(self) -> tuple[np.ndarray, Future] | None:
        """The next queued row, or None once the thread has left for idleness."""
        while True:
            try:
                return self._queue.get(timeout=self.idle_exit_s)
            except queue.Empty:
                with self._start_lock:
                    if self._queue.empty():
                        self._thread = None
                        return None

    def _collect(self, first: tuple[np.ndarray, Future]) -> list[tuple[np.ndarray, Future]]:
        items = [first]
        deadline = time.monotonic() + self.max_wait_s
        while len(items) < self.max_size:
            remaining = deadline - time.monotonic()
            try:
                items.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _loop(self) -> None:
        lower_own_priority(self.nice)
        while (first := self._next()) is not None:
            items = self._collect(first)
            live = [(row, future) for row, future in items if future.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                output = self._run(np.stack([row for row, _ in live]))
                if len(output) != len(live):
                    raise RuntimeError(f"{self.name}: {len(live)} inputs gave {len(output)} outputs")
            except BaseException as error:  # every caller of this batch gets the error, the loop goes on
                log.exception("batch of %d on %s failed", len(live), self.name)
                for _, future in live:
                    future.set_exception(error)
                continue
            self.batches += 1
            self.rows += len(live)
            for index, (_, future) in enumerate(live):
                future.set_result(output[index])
