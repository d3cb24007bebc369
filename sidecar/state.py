"""What the request handlers of one worker share: settings, models, the upstream, a thread pool.

Its own module so that the app factory and the blueprints both import it and not each other.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from .config import Settings
from .models.registry import ModelRegistry
from .proxy import Upstream

EXTENSION = "sidecar"  # the key in app.extensions


class Sidecar:
    """A worker's shared state, kept on `app.extensions["sidecar"]`."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.upstream = Upstream(settings.upstream_url, settings.upstream_timeout) if settings.upstream_url else None
        # Upstream halves of split requests run beside local inference.
        self.pool = ThreadPoolExecutor(max_workers=max(2, settings.request_threads), thread_name_prefix="upstream")


def sidecar_of(app: Flask) -> Sidecar:
    return app.extensions[EXTENSION]


def current_sidecar() -> Sidecar:
    """The state of the app serving the current request."""
    return sidecar_of(current_app)
