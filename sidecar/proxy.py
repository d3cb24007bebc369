"""Forwarding to the upstream Immich ML service. Knows HTTP and the `entries` JSON; nothing of models."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from .errors import SidecarError, UpstreamError, UpstreamTimeout


@dataclass(frozen=True)
class UpstreamAnswer:
    status: int
    content_type: str
    body: bytes


class Upstream:
    def __init__(self, base_url: str, timeout: float) -> None:
        # A path prefix on the URL is kept (a reverse proxy may serve Immich ML under one).
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()  # requests.Session is not thread-safe; one per serving thread

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def forward(self, path: str, body: bytes, content_type: str) -> UpstreamAnswer:
        """Send the request body unchanged; return the answer unchanged, whatever its status."""
        response = self._send(path, data=body, headers={"Content-Type": content_type})
        return UpstreamAnswer(response.status_code, response.headers.get("Content-Type", ""), response.content)

    def predict(self, entries: Mapping[str, Any], image: bytes | None, text: str | None) -> dict[str, Any]:
        """A /predict for part of a split request, built as Immich builds it; its JSON answer."""
        form: dict[str, Any] = {"entries": (None, json.dumps(entries), None)}
        if image is not None:
            form["image"] = ("blob", image, "application/octet-stream")
        elif text is not None:
            form["text"] = (None, text, None)
        response = self._send("/predict", files=form)
        if not response.ok:
            detail = _error_text(response)
            status = response.status_code if 400 <= response.status_code < 500 else 502
            raise SidecarError(f"upstream ML answered {response.status_code} for {sorted(entries)}: {detail}", status)
        try:
            answer = response.json()
        except ValueError:
            raise UpstreamError(f"upstream ML answered {sorted(entries)} with something that is not JSON") from None
        if not isinstance(answer, dict):
            raise UpstreamError(f"upstream ML answered {sorted(entries)} with JSON that is not an object")
        return answer

    def _send(self, path: str, **kwargs: Any) -> requests.Response:
        url = self.base_url + path
        try:
            return self._session.post(url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise UpstreamTimeout(
                f"upstream ML at {self.base_url} did not answer within {self.timeout:g} s (AIO_UPSTREAM_TIMEOUT_S)"
            ) from None
        except requests.RequestException as error:
            raise UpstreamError(f"upstream ML at {self.base_url} is unreachable: {type(error).__name__}") from None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict):
            return str(body.get("error") or body.get("detail") or body)[:500]
    except ValueError:
        pass
    return response.text[:500] or response.reason or ""
