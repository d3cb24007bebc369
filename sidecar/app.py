"""Flask application factory: settings, the worker's models, the upstream, blueprints, error handling."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import metrics
from .config import Settings
from .errors import SidecarError
from .models.registry import ModelRegistry
from .routes.immich import bp as immich_bp
from .routes.mtphotos import bp as mtphotos_bp
from .routes.ops import bp as ops_bp
from .state import EXTENSION, Sidecar

log = logging.getLogger("sidecar")


def create_app(settings: Settings | None = None, registry: ModelRegistry | None = None) -> Flask:
    settings = settings or Settings.from_env()
    registry = registry or ModelRegistry(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_mb * 1024 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_mb * 1024 * 1024
    app.json.ensure_ascii = False  # Chinese text stays readable in answers
    app.extensions[EXTENSION] = Sidecar(settings, registry)
    app.register_blueprint(immich_bp)
    app.register_blueprint(mtphotos_bp)
    app.register_blueprint(ops_bp)

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        g.task = ""
        g.model = ""

    @app.after_request
    def record(response):
        if request.endpoint in ("ops.metrics", "immich.ping"):
            return response
        seconds = time.perf_counter() - getattr(g, "started", time.perf_counter())
        endpoint = request.endpoint or "unknown"
        task = getattr(g, "task", "") or "-"
        metrics.observe(endpoint, task, response.status_code, seconds)
        log.info(
            "%s %s task=%s model=%s status=%d ms=%.1f",
            request.method,
            request.path,
            task,
            getattr(g, "model", "") or "-",
            response.status_code,
            seconds * 1000,
        )
        return response

    @app.errorhandler(SidecarError)
    def sidecar_error(error: SidecarError):
        return jsonify(error=error.message), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = error.description or error.name
        if error.code == 413:
            message = f"request body is larger than {settings.max_request_mb} MiB (AIO_MAX_REQUEST_MB)"
        return jsonify(error=message), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # The stack trace goes to the log, never to the client.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error=f"internal error: {type(error).__name__}"), 500

    return app
