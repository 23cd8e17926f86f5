"""API keys: bearer tokens checked against SHA-256 digests, scoped to datasets.

The config holds only digests (``printf %s "$TOKEN" | sha256sum``), so a
leaked config file leaks no token; tokens should be long random strings
(``python -c 'import secrets; print(secrets.token_urlsafe(32))'``), for which
an unsalted SHA-256 is as safe as a password hash and costs a microsecond.
The presented token's digest is compared with every configured digest with
`hmac.compare_digest`, without stopping at the first match, so timing tells
nothing about which digest or how much of it matched. Tokens are never
logged; a key is named in logs by its `name`.

A key may carry a rate limit (requests per second, a token bucket with one
second of burst); beyond it the request is refused with 429 + Retry-After.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from starlette.requests import Request

from streamlake.http.problems import Problem
from streamlake.http.settings import ApiKey

_BEARER = "bearer "


class _Bucket:
    """A token bucket: `rate` requests per second, `rate` of burst."""

    __slots__ = ("level", "rate", "stamp")

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.level = rate
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when the request may go, else the seconds until it could."""
        now = time.monotonic()
        self.level = min(self.rate, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= 1:
            self.level -= 1
            return 0.0
        return (1 - self.level) / self.rate


class Authenticator:
    """Who is calling, and whether they may touch a dataset."""

    def __init__(self, keys: tuple[ApiKey, ...]) -> None:
        self.keys = keys
        self._digests = [(key, key.sha256.encode()) for key in keys]
        self._buckets = {
            key.name: _Bucket(key.rate_limit_rps) for key in keys if key.rate_limit_rps
        }

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def authenticate(self, request: Request) -> ApiKey | None:
        """The caller's key (None when auth is off); raises 401 or 429."""
        if not self.keys:
            return None
        header = request.headers.get("authorization", "")
        if header[: len(_BEARER)].lower() != _BEARER:
            raise Problem(
                401,
                "unauthorized",
                "send an API key as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer realm="streamlake"'},
            )
        digest = hashlib.sha256(header[len(_BEARER) :].strip().encode()).hexdigest().encode()
        found = None
        for key, expected in self._digests:
            if hmac.compare_digest(digest, expected):
                found = key
        if found is None:
            raise Problem(
                401,
                "unauthorized",
                "the API key is not known to this server; check the token you send",
                headers={"WWW-Authenticate": 'Bearer realm="streamlake", error="invalid_token"'},
            )
        bucket = self._buckets.get(found.name)
        wait = bucket.take() if bucket is not None else 0.0
        if wait:
            raise Problem(
                429,
                "rate-limited",
                f"API key {found.name!r} is limited to {found.rate_limit_rps:g} requests/s; "
                "retry after the Retry-After delay, or send batches instead of single events",
                retry_after=max(1, math.ceil(wait)),
            )
        return found

    @staticmethod
    def authorize(key: ApiKey | None, dataset: str) -> None:
        """Raises 403 when `key` may not use `dataset`."""
        if key is not None and not key.allows(dataset):
            raise Problem(
                403,
                "forbidden",
                f"API key {key.name!r} may not use dataset {dataset!r}; ask for a key scoped to it",
            )
