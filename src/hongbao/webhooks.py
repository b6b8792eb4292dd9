"""Signing and verifying hongbao's webhooks (the Standard Webhooks scheme), for hongbao and for receivers.

Every message carries three headers:

* `webhook-id`: the message id (`msg_…`), the same on every retry: a receiver that saw it already ignores it;
* `webhook-timestamp`: Unix seconds when this attempt was signed;
* `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` (space-separated if several).

The key is the base64 after `whsec_` of the host's webhook secret.  A receiver calls `verify` with the secret, the
headers and the raw body; it returns the event (`{"type": ..., "timestamp": ..., "data": {...}}`) or raises
`WebhookVerificationError` for a wrong signature or a timestamp outside the replay window (5 minutes either way).
Only the standard library is used, so a receiver can copy this file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300  # the replay window: a message signed longer ago (or ahead) than this is refused


class WebhookVerificationError(Exception):
    """Raised when a message's signature does not match or its timestamp is outside the replay window."""


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, body: bytes, now_s: float | None = None) -> dict[str, str]:
    """The three headers of one delivery attempt."""
    timestamp = int(time.time() if now_s is None else now_s)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes | str, *, tolerance_s: int = TOLERANCE_S,
    now_s: float | None = None,
) -> dict[str, Any]:
    """The event of a genuine, fresh message; `WebhookVerificationError` otherwise.

    `headers` may be any mapping (lower-case names are looked up first, as HTTP frameworks give them)."""
    def header(name: str) -> str:
        for key in (name, name.title(), name.upper()):
            if key in headers:
                return str(headers[key])
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        if name in lowered:
            return lowered[name]
        raise WebhookVerificationError(f"missing header {name}")

    raw = body.encode() if isinstance(body, str) else body
    msg_id, stamp, signatures = header("webhook-id"), header("webhook-timestamp"), header("webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not a number") from exc
    now = time.time() if now_s is None else now_s
    if abs(now - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is outside the replay window")
    expected = sign(secret, msg_id, timestamp, raw).partition(",")[2]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            event: dict[str, Any] = json.loads(raw)
            return event
    raise WebhookVerificationError("no signature matches")
