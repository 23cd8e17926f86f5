"""Whole-request errors as ``application/problem+json`` (RFC 9457).

A `Problem` is raised wherever a request is refused before any of its events
was attempted; the app turns it into the response. Each has a stable `type`
URN (documented in the OpenAPI document), a short title, a `detail` that says
what to do, and, for 429 and 503, a Retry-After header. Extension members
(e.g. ``dlq`` for an unparsable body) ride along.
"""

from __future__ import annotations

import json

from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:streamlake:problem:"

TITLES = {
    "bad-request": "The request is malformed",
    "invalid-json": "The body is not valid JSON",
    "unauthorized": "No valid API key",
    "forbidden": "The API key may not use this dataset",
    "not-found": "No such resource",
    "method-not-allowed": "Method not allowed",
    "too-large": "The request is too large",
    "unsupported-media-type": "Unsupported content type or encoding",
    "rate-limited": "Too many requests for this API key",
    "overloaded": "The worker has too many requests in flight",
    "draining": "The server is shutting down",
    "not-ready": "The server is not ready",
    "kafka-queue-full": "The Kafka producer's queue is full",
    "internal": "Internal server error",
}


class Problem(Exception):
    """A refused request: raise it, the app answers it."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
        **extensions: object,
    ) -> None:
        super().__init__(detail)
        if status in (429, 503) and retry_after is None:
            raise ValueError("429 and 503 always carry Retry-After")
        self.status = status
        self.slug = slug
        self.detail = detail
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self) -> dict[str, object]:
        return {
            "type": TYPE_PREFIX + self.slug,
            "title": TITLES[self.slug],
            "status": self.status,
            "detail": self.detail,
            **self.extensions,
        }

    def response(self, extra_headers: dict[str, str] | None = None) -> Response:
        headers = {**self.headers, **(extra_headers or {})}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return Response(
            json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")),
            status_code=self.status,
            headers=headers,
            media_type=PROBLEM_JSON,
        )
