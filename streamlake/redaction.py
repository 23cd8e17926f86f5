"""Keeping secrets out of reprs, logs and messages: the redaction helpers.

A leaf module: it imports nothing from the rest of the package, so any module
may use it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

_SECRET_MARKERS = ("password", "secret", "token", "user.info", "key.pem", "credentials")


def is_secret(name: str) -> bool:
    """Whether a property's value must never be shown (passwords, tokens, ...)."""
    return any(marker in name.lower() for marker in _SECRET_MARKERS)


def redact(conf: Mapping[str, object]) -> dict[str, object]:
    """A copy of `conf` safe to log or print: secret values replaced."""
    return {k: ("***" if is_secret(k) else v) for k, v in conf.items()}


def redact_url(url: str) -> str:
    """`url` with any password in its user-info part replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
