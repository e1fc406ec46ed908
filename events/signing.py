"""The signature on every event, in the shape Stripe uses, so existing verifiers work.

X-Aftercare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Aftercare-Signature"
# How far a receiver should accept the timestamp from its own clock (replay window).
TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, now: float, tolerance: int = TOLERANCE) -> bool:
    """Whether header `value` signs `body` under `secret`, within `tolerance` seconds of `now`."""
    parts = [part.split("=", 1) for part in value.split(",") if "=" in part]
    stamps = [v for k, v in parts if k == "t"]
    candidates = [v for k, v in parts if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not candidates:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
