"""The one exception type the HTTP layer turns into a JSON error answer."""

from __future__ import annotations


class SidecarError(Exception):
    """An error with the HTTP status it deserves and a message that says what was wrong."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(SidecarError):
    status = 400


class UnprocessableRequest(SidecarError):
    """Well-formed HTTP, but the request asks for something this service cannot give (422, as Immich ML)."""

    status = 422


class PayloadTooLarge(SidecarError):
    status = 413


class ModelUnavailable(SidecarError):
    """The model is known but cannot be loaded here (missing checkpoint): the operator must act."""

    status = 503


class NotConfigured(SidecarError):
    status = 501


class UpstreamError(SidecarError):
    status = 502


class UpstreamTimeout(SidecarError):
    status = 504
