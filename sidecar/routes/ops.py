"""Operations: Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response

from .. import metrics

bp = Blueprint("ops", __name__)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
