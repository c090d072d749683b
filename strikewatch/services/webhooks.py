"""Webhook signatures (the Standard Webhooks scheme) and per-subscription secrets.

Every delivery carries three headers (https://www.standardwebhooks.com):

    webhook-id         the alert id (the same on every retry of one alert, so receivers can deduplicate)
    webhook-timestamp  Unix seconds when this attempt was signed (receivers refuse old ones: no replay)
    webhook-signature  "v1,<base64 HMAC-SHA256 over '<id>.<timestamp>.<body>'>"

keyed with the subscription's own secret, ``whsec_<base64 of 32 bytes>``.

Secrets are derived, not stored: ``subscription_secret(master, subscription_id, version)`` is
HMAC-SHA256(master, "strikewatch/webhook-secret/v1|<id>|<version>"), a one-block HKDF-Expand with the
master secret as the pseudorandom key. The master secret is a setting (``STRIKEWATCH_WEBHOOK_HMAC_SECRET``,
a ``SecretStr``) of the API, which shows a subscription's secret once, in its 201 response and after a
rotation, and of the deliverer, which signs with it. Only the version number travels on Kafka (in the
Subscription and, copied by the matcher, the Alert), so no secret sits on a topic, and rotating a secret
is writing the subscription with ``secret_version + 1``. One subscriber's secret says nothing about
another's, so no subscriber can sign for someone else's URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
# Receivers should refuse a timestamp further than this from their clock (the spec's suggestion: 5 min).
TOLERANCE_S = 300
_DERIVE_LABEL = "strikewatch/webhook-secret/v1"


def subscription_secret(master: bytes, subscription_id: str, version: int) -> str:
    """The ``whsec_...`` secret of one subscription at one secret version."""
    if not master:
        raise ValueError("the webhook master secret is empty")
    key = hmac.new(master, f"{_DERIVE_LABEL}|{subscription_id}|{version}".encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def sign_headers(secret: str, msg_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = int(time.time() if now is None else now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(secret, msg_id, ts, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None, tolerance_s: int = TOLERANCE_S
) -> bool:
    """What a receiver does (docs/api.md has a standalone copy): the timestamp is recent and one of the
    space-separated ``v1,`` signatures matches, compared in constant time."""
    h = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, ts = h["webhook-id"], int(h["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    expected = signature(secret, msg_id, ts, body)
    return any(hmac.compare_digest(expected, s) for s in h.get("webhook-signature", "").split())
