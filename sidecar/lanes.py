"""Two lanes for the work of one worker: interactive requests (a search) go ahead of background jobs.

A smart search costs one CLIP text encoding (~20 ms); indexing costs OCR and a CLIP image encoding per
photo, for hours. Without lanes a search queues behind photo jobs for a request thread and then shares
the cores with them. With lanes:

* Interactive work (CLIP text: Immich's smart search, MT Photos' /clip/txt) runs at once in its request
  thread, at normal CPU priority. Nothing it waits for is shared with background work but the cores.
* Background work (OCR, CLIP image) runs in the background lane: at most `slots` inferences at once, in
  dedicated threads that lowered their own CPU priority (nice). The kernel then gives the cores to a
  search the moment it arrives; a photo job loses only the ~20 ms the search takes. Background requests
  wait in their request threads for a slot: they are never refused (Immich does not retry a failed job).
* Requests answered by the upstream (faces) wait on the network: they take no slot.

The models that background work runs are built in niced threads too (models/registry.py): ONNX Runtime's
and OpenMP's worker threads inherit the nice value of the thread that creates them.

Nothing here imports models, torch or Flask.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TypeVar

from .protocol import CLIP, TEXTUAL, ModelEntry

log = logging.getLogger(__name__)

INTERACTIVE = "interactive"
BACKGROUND = "background"
UPSTREAM = "upstream"  # answered by the upstream only: no local CPU, no slot
LANES = (INTERACTIVE, BACKGROUND, UPSTREAM)

T = TypeVar("T")


def classify(local: Mapping[str, tuple[ModelEntry, ...]]) -> str:
    """The lane of a /predict request from its locally served tasks: interactive when all of it is CLIP
    text (what a user waits for), background when it has local image work, upstream when nothing is local."""
    if not local:
        return UPSTREAM
    entries = [entry for items in local.values() for entry in items]
    if all(entry.task == CLIP and entry.type == TEXTUAL for entry in entries):
        return INTERACTIVE
    return BACKGROUND


# --- thread priority ----------------------------------------------------------------------------------
def lower_own_priority(nice: int) -> bool:
    """Raise the calling thread's nice value to `nice` (Linux: nice is per thread). Never lowers it: that
    needs privileges. True when the thread now runs at `nice` or lower priority."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return False
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        return True
    except OSError as error:  # a sandbox may forbid it; the lane still bounds background work
        log.warning("could not lower the priority of background thread %d: %s", tid, error)
        return False


def thread_nice(native_id: int | None = None) -> int:
    """The nice value of one thread of this process (default: the calling thread)."""
    return os.getpriority(os.PRIO_PROCESS, native_id or threading.get_native_id())


def in_niced_thread(function: Callable[[], T], nice: int, name: str = "niced-loader") -> T:
    """`function()` run in a new thread that first lowered its priority to `nice`; its result or error.
    Threads it creates (ONNX Runtime's intra-op pool, OpenMP teams) inherit that priority."""
    if nice <= 0:
        return function()
    future: Future = Future()

    def run() -> None:
        lower_own_priority(nice)
        try:
            future.set_result(function())
        except BaseException as error:
            future.set_exception(error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return future.result()


# --- the background lane ------------------------------------------------------------------------------
class BackgroundLane:
    """At most `slots` background inferences at once, each in a permanently niced thread, first come
    first served. `run` blocks the calling request thread until its work is done; it never refuses.

    The threads are started here, at once: a thread created later by a niced one would inherit its nice."""

    def __init__(
        self,
        slots: int,
        nice: int,
        observe_wait: Callable[[float], None] | None = None,
        name: str = "background",
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.slots = slots
        self.nice = nice
        self._observe_wait = observe_wait or (lambda seconds: None)
        self._queue: queue.SimpleQueue[tuple[float, Callable[[], object], Future] | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{index}", daemon=True) for index in range(slots)
        ]
        self.native_ids: list[int] = []
        self._ready = threading.Barrier(slots + 1)
        for thread in self._threads:
            thread.start()
        self._ready.wait()

    def run(self, function: Callable[[], T]) -> T:
        """`function()` in a background slot; its result, or the error it raised."""
        future: Future = Future()
        self._queue.put((time.perf_counter(), function, future))
        return future.result()

    def _loop(self) -> None:
        lower_own_priority(self.nice)
        self.native_ids.append(threading.get_native_id())
        self._ready.wait()
        while (item := self._queue.get()) is not None:
            queued, function, future = item
            if not future.set_running_or_notify_cancel():
                continue
            self._observe_wait(time.perf_counter() - queued)
            try:
                future.set_result(function())
            except BaseException as error:  # the caller gets it; the slot goes on
                future.set_exception(error)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
