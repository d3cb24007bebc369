"""What the request handlers of one worker share: settings, models, the upstream, a thread pool.

Its own module so that the app factory and the blueprints both import it and not each other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import Flask, current_app

from . import metrics
from .config import Settings
from .lanes import BACKGROUND, INTERACTIVE, BackgroundLane
from .models.registry import ModelRegistry
from .proxy import Upstream

EXTENSION = "sidecar"  # the key in app.extensions
log = logging.getLogger(__name__)
T = TypeVar("T")


class Sidecar:
    """A worker's shared state, kept on `app.extensions["sidecar"]`."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.upstream = Upstream(settings.upstream_url, settings.upstream_timeout) if settings.upstream_url else None
        # Upstream halves of split requests run beside local inference.
        self.pool = ThreadPoolExecutor(max_workers=max(2, settings.request_threads), thread_name_prefix="upstream")
        # Background inference (OCR, CLIP image) runs in its own niced threads, a bounded number at once;
        # interactive work (a search) runs in its request thread, at once (sidecar/lanes.py).
        self.background: BackgroundLane | None = None
        self._count_lock = threading.Lock()
        self._held = 0  # request threads held by background and forwarded requests
        self._warned_at = -1e9
        if settings.interactive_lane:
            self.background = BackgroundLane(
                settings.background_slots, settings.background_nice, metrics.LANE_WAIT.labels(BACKGROUND).observe
            )

    def in_lane(self, lane: str, work: Callable[[], T]) -> T:
        """`work()` in its lane: background work in a background slot (waiting for one if all are busy),
        anything else in the calling request thread. The lane off, everything runs in the request thread."""
        in_flight = metrics.LANE_IN_FLIGHT.labels(lane)
        in_flight.inc()
        if lane != INTERACTIVE:
            self._hold_thread(+1)
        try:
            if lane == BACKGROUND and self.background is not None:
                return self.background.run(work)
            if lane == INTERACTIVE:
                metrics.LANE_WAIT.labels(lane).observe(0.0)  # no admission: it starts at once
            return work()
        finally:
            in_flight.dec()
            if lane != INTERACTIVE:
                self._hold_thread(-1)

    def _hold_thread(self, change: int) -> None:
        """Count the request threads held by background and forwarded requests; say so, once a minute at
        most, when they leave fewer than two free for a search (it would queue for a thread)."""
        with self._count_lock:
            self._held += change
            held = self._held
            now = time.monotonic()
            warn = held >= self.settings.request_threads - 1 and now - self._warned_at > 60
            if warn:
                self._warned_at = now
        if warn:
            log.warning(
                "%d of %d request threads hold background or forwarded requests: a search may wait for a thread; "
                "raise MACHINE_LEARNING_REQUEST_THREADS above the ML job concurrency set in Immich",
                held,
                self.settings.request_threads,
            )

    def close(self) -> None:
        if self.background is not None:
            self.background.close()
        self.pool.shutdown(wait=False)


def sidecar_of(app: Flask) -> Sidecar:
    return app.extensions[EXTENSION]


def current_sidecar() -> Sidecar:
    """The state of the app serving the current request."""
    return sidecar_of(current_app)
