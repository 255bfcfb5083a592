"""Signed inbound webhooks: signing and strict verification (pure, no I/O).

A gateway proves that a webhook is its own by signing it. o2c uses Stripe's scheme,
checked more strictly than Stripe's own SDK:

* The header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`` (``Stripe-Signature``).
* ``v1`` is the hex HMAC-SHA256, keyed with the endpoint's signing secret, of
  ``"<t>.<raw body>"``: the **raw bytes** as received, never re-serialised JSON.
* Every ``v1`` is compared (in constant time, :func:`hmac.compare_digest`) under every
  configured secret: while a secret is rotated the gateway signs with the old and the
  new one, and the host configures both, so nothing is refused during the switch.
* ``t`` must lie within the tolerance (default 300 s) of the injected clock's ``now``
  **in both directions**: too old is a replay, too far ahead is refused too (Stripe's
  SDK only checks the past).
* ``v0`` (Stripe's legacy test-mode scheme) and unknown schemes are never accepted.

Every refusal is its own :class:`~o2c.errors.WebhookSignatureError` subclass, and the
work done on hostile input is bounded: header length, number of items and
signatures, number of secrets and body size are capped before any HMAC is computed.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 3, 2, 9, tzinfo=UTC)
>>> header = sign_payload(b'{"id": "evt_1"}', "whsec_test", now)
>>> header.startswith("t=1772442000,v1=")
True
>>> verify_signature(b'{"id": "evt_1"}', header, ("whsec_test",), now=now).secret_index
0
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

import attrs

from o2c.clock import require_aware
from o2c.errors import (
    ConfigurationError,
    MalformedSignatureHeaderError,
    MissingTimestampError,
    NoV1SignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    WebhookPayloadError,
    WebhookSecretError,
    WebhookTooLargeError,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
    "MAX_HEADER_CHARS",
    "MAX_SECRETS",
    "MAX_SIGNATURES",
    "MAX_TOLERANCE",
    "SignatureHeader",
    "Verified",
    "WebhookResult",
    "WebhookStatus",
    "check_secrets",
    "parse_signature_header",
    "sign_payload",
    "signature_for",
    "verify_signature",
]

#: How far the signed timestamp may lie from ``now``, in either direction (Stripe: 300 s).
DEFAULT_TOLERANCE: Final = timedelta(seconds=300)
#: Largest tolerance accepted: a replay window of more than a day is a misconfiguration.
MAX_TOLERANCE: Final = timedelta(days=1)
#: Largest body verified by default (1 MiB); larger bodies are refused unread.
DEFAULT_MAX_BODY_BYTES: Final = 1 << 20
#: Longest signature header accepted (Stripe's are about 150 characters).
MAX_HEADER_CHARS: Final = 4096
#: Most ``key=value`` items in one header.
MAX_HEADER_ITEMS: Final = 32
#: Most ``v1`` signatures in one header (one per secret being rotated, in practice two).
MAX_SIGNATURES: Final = 16
#: Most secrets configured for one gateway.
MAX_SECRETS: Final = 16
_MAX_SECRET_CHARS: Final = 1024

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EPOCH: Final = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant datetime holds
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_SCHEME: Final = re.compile(r"[a-z][a-z0-9_]{0,15}")
_VALUE: Final = re.compile(r"[!-~]{1,512}")  # printable ASCII, no spaces


# --------------------------------------------------------------------------- values


class WebhookStatus(StrEnum):
    """What o2c did with a verified webhook."""

    APPLIED = "applied"  #: it moved a payment or a dispute
    PARKED = "parked"  #: kept until the payment it concerns is known to o2c
    IGNORED = "ignored"  #: nothing o2c acts on (an event type it does not map ...)


@attrs.frozen(kw_only=True)
class WebhookResult:
    """The answer to a received webhook; a redelivery returns this same value.

    Attributes:
        gateway: The gateway that sent it.
        event_id: The gateway's event id.
        event_type: The gateway's event type.
        status: Applied, parked or ignored.
        reason: Why it was parked or ignored (empty when applied).
        payment_ids: The o2c payments it moved (for a dispute: the disputed payment).
        dispute_id: The o2c dispute it opened or moved, if any.
        released: Disputes that were parked waiting for a payment this event moved,
            and are now opened.
        received_at: When it was first processed (the engine's clock).
    """

    gateway: str
    event_id: str
    event_type: str
    status: WebhookStatus
    reason: str = ""
    payment_ids: tuple[str, ...] = ()
    dispute_id: str | None = None
    released: tuple[str, ...] = ()
    received_at: datetime


@attrs.frozen(kw_only=True)
class SignatureHeader:
    """A parsed signature header.

    Attributes:
        timestamp: ``t`` as the Unix time it names.
        timestamp_text: ``t`` exactly as sent (the signed text starts with it).
        v1: The ``v1`` signatures, in header order.
        schemes: Every scheme present (``"t"`` excluded), in order of first appearance.
    """

    timestamp: int
    timestamp_text: str
    v1: tuple[str, ...]
    schemes: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Verified:
    """A successful verification.

    Attributes:
        signed_at: The signed timestamp.
        age: ``now - signed_at`` (negative when the sender's clock is ahead).
        secret_index: Which configured secret matched (0: the first). Once every
            delivery matches a new secret, the old one can be removed.
        signature_index: Which ``v1`` of the header matched.
    """

    signed_at: datetime
    age: timedelta
    secret_index: int
    signature_index: int


# --------------------------------------------------------------------------- checks


def check_secrets(gateway: str, secrets: object) -> tuple[str, ...]:
    """The secrets configured for ``gateway``, checked.

    A bare string is refused (it would be read as one secret per character), as are
    empty secrets and secrets with surrounding whitespace (a newline read from a file).

    Raises:
        WebhookSecretError: none configured, or one is unusable.
    """
    if secrets is None:
        raise WebhookSecretError(gateway=gateway, reason="no secret configured")
    if isinstance(secrets, str | bytes) or not isinstance(secrets, Sequence):
        raise WebhookSecretError(gateway=gateway, reason="a tuple of secret strings is required")
    found = tuple(secrets)
    if not found:
        raise WebhookSecretError(gateway=gateway, reason="no secret configured")
    if len(found) > MAX_SECRETS:
        raise WebhookSecretError(gateway=gateway, reason=f"more than {MAX_SECRETS} secrets")
    for i, secret in enumerate(found):
        _check_secret(gateway, secret, i)
    return found


def _check_secret(gateway: str, secret: object, index: int = 0) -> str:
    where = f"secret {index}"
    if not isinstance(secret, str):
        raise WebhookSecretError(gateway=gateway, reason=f"{where} is not a string")
    if not secret:
        raise WebhookSecretError(gateway=gateway, reason=f"{where} is empty")
    if secret != secret.strip():
        raise WebhookSecretError(gateway=gateway, reason=f"{where} has surrounding whitespace")
    if len(secret) > _MAX_SECRET_CHARS:
        raise WebhookSecretError(
            gateway=gateway, reason=f"{where} is longer than {_MAX_SECRET_CHARS} characters"
        )
    return secret


def _require_bytes(body: object) -> bytes:
    if not isinstance(body, bytes):
        raise WebhookPayloadError(
            path="(body)",
            reason=f"the raw body bytes are required, not {type(body).__name__}",
        )
    return body


def _check_body(body: object, max_body_bytes: int) -> bytes:
    raw = _require_bytes(body)
    if len(raw) > max_body_bytes:
        raise WebhookTooLargeError(size=len(raw), limit=max_body_bytes)
    return raw


def _check_limits(tolerance: object, max_body_bytes: object) -> None:
    if not isinstance(tolerance, timedelta) or not timedelta(0) <= tolerance <= MAX_TOLERANCE:
        raise ConfigurationError(
            "the webhook tolerance must be a timedelta from zero to one day",
            setting="webhook_tolerance",
            value=tolerance,
        )
    if (
        isinstance(max_body_bytes, bool)
        or not isinstance(max_body_bytes, int)
        or max_body_bytes < 0
    ):
        raise ConfigurationError(
            "the webhook body limit must be an int of zero or more",
            setting="webhook_max_body_bytes",
            value=max_body_bytes,
        )


# --------------------------------------------------------------------------- header


def _malformed(reason: str) -> MalformedSignatureHeaderError:
    return MalformedSignatureHeaderError(reason=reason)


def parse_signature_header(header: object) -> SignatureHeader:
    """Read ``t=<unix>,v1=<hex>[,v1=<hex>...][,<scheme>=<value>...]``.

    Surrounding whitespace is dropped; inside, every item is ``scheme=value`` with no
    spaces, ``t`` appears once as 1-12 ASCII digits (at most the last second of 9999),
    every ``v1`` is 64 lower-case
    hex digits, other schemes (``v0`` ...) are kept by name and never trusted.

    Raises:
        MalformedSignatureHeaderError: anything else, or over the caps.
        MissingTimestampError: no ``t``.
        NoV1SignatureError: no ``v1`` (only ``v0``, say).
    """
    if not isinstance(header, str):
        raise _malformed(f"the header must be text, not {type(header).__name__}")
    if len(header) > MAX_HEADER_CHARS:
        raise _malformed(f"longer than {MAX_HEADER_CHARS} characters")
    text = header.strip()
    if not text:
        raise _malformed("empty")
    items = text.split(",")
    if len(items) > MAX_HEADER_ITEMS:
        raise _malformed(f"more than {MAX_HEADER_ITEMS} items")
    stamp: str | None = None
    v1: list[str] = []
    schemes: list[str] = []
    for n, item in enumerate(items, 1):
        scheme, sep, value = item.partition("=")
        if not sep or not (scheme == "t" or _SCHEME.fullmatch(scheme)):
            raise _malformed(f"item {n} is not scheme=value")
        if not _VALUE.fullmatch(value):
            raise _malformed(f"item {n} ({scheme}) has no value or a character not allowed")
        if scheme == "t":
            if stamp is not None:
                raise _malformed("more than one timestamp")
            if not _TIMESTAMP.fullmatch(value):
                raise _malformed("the timestamp is not a Unix time in seconds")
            if int(value) > _MAX_EPOCH:
                raise _malformed("the timestamp is after the year 9999")
            stamp = value
            continue
        if scheme not in schemes:
            schemes.append(scheme)
        if scheme == "v1":
            if not _HEX64.fullmatch(value):
                raise _malformed(f"v1 signature {len(v1) + 1} is not 64 lower-case hex digits")
            if len(v1) == MAX_SIGNATURES:
                raise _malformed(f"more than {MAX_SIGNATURES} v1 signatures")
            v1.append(value)
    if stamp is None:
        raise MissingTimestampError()
    if not v1:
        raise NoV1SignatureError(schemes=tuple(schemes))
    return SignatureHeader(
        timestamp=int(stamp), timestamp_text=stamp, v1=tuple(v1), schemes=tuple(schemes)
    )


# --------------------------------------------------------------------------- signing


def _unix(timestamp: int | datetime) -> int:
    if isinstance(timestamp, datetime):
        require_aware(timestamp)
        return (timestamp - _EPOCH) // timedelta(seconds=1)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise _malformed("the timestamp must be a non-negative int or an aware datetime")
    if timestamp > _MAX_EPOCH:
        raise _malformed("the timestamp is after the year 9999")
    return timestamp


def signature_for(body: bytes, secret: str, timestamp: int | str) -> str:
    """The hex ``v1`` signature of ``body`` signed at ``timestamp`` under ``secret``.

    ``timestamp`` is the ``t`` text exactly as it appears in the header (or an int).
    """
    signed = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_payload(body: bytes, secret: str, timestamp: int | datetime) -> str:
    """A signature header for ``body``, as the gateway would send it.

    For tests and plugin authors (a fake gateway sending webhooks). ``timestamp`` is
    Unix seconds or an aware datetime (its whole seconds are signed).

    >>> sign_payload(b"{}", "whsec_test", 1_700_000_000)[:40]
    't=1700000000,v1=35495024f4ef3f94e5a93e22'

    Raises:
        WebhookSecretError: the secret is empty or has surrounding whitespace.
        WebhookPayloadError: ``body`` is not bytes.
        MalformedSignatureHeaderError: ``timestamp`` is not a Unix time.
    """
    _check_secret("", secret)
    _require_bytes(body)
    seconds = _unix(timestamp)
    return f"t={seconds},v1={signature_for(body, secret, seconds)}"


# --------------------------------------------------------------------------- verifying


def verify_signature(
    body: bytes,
    header: object,
    secrets: Sequence[str] | None,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    gateway: str = "",
) -> Verified:
    """Prove that ``body`` was signed by a holder of one of ``secrets``, recently.

    Checks, in this order (cheap before expensive): the secrets, the body's type and
    size, the header's shape, the timestamp against ``now`` in both directions, and
    last the HMAC of every ``v1`` under every secret.

    Args:
        body: The raw request body, as received.
        header: The signature header, as received.
        secrets: Every secret currently valid for the endpoint (several while rotating).
        now: The injected clock's time (timezone-aware).
        tolerance: How far ``t`` may lie from ``now``, either way (exactly the
            tolerance is accepted).
        max_body_bytes: Larger bodies are refused unread.
        gateway: Named in configuration errors.

    Returns:
        What matched, and the timestamp's age.

    Raises:
        WebhookSecretError: no usable secret.
        WebhookTooLargeError: the body is over ``max_body_bytes``.
        WebhookPayloadError: the body is not bytes.
        MalformedSignatureHeaderError, MissingTimestampError, NoV1SignatureError:
            the header (see :func:`parse_signature_header`).
        TimestampOutsideToleranceError: ``t`` too old or too far ahead.
        SignatureMismatchError: no ``v1`` matches under any secret.
        ConfigurationError: ``tolerance`` or ``max_body_bytes`` is not usable.
    """
    require_aware(now)
    _check_limits(tolerance, max_body_bytes)
    keys = check_secrets(gateway, secrets)
    raw = _check_body(body, max_body_bytes)
    parsed = parse_signature_header(header)
    age = (now - _EPOCH) - timedelta(seconds=parsed.timestamp)
    if age > tolerance or -age > tolerance:
        raise TimestampOutsideToleranceError(
            direction="past" if age > tolerance else "future",
            age_seconds=age // timedelta(seconds=1),
            tolerance_seconds=tolerance // timedelta(seconds=1),
        )
    for i, secret in enumerate(keys):
        expected = signature_for(raw, secret, parsed.timestamp_text)
        for j, candidate in enumerate(parsed.v1):
            if hmac.compare_digest(expected, candidate):
                return Verified(
                    signed_at=_EPOCH + timedelta(seconds=parsed.timestamp),
                    age=age,
                    secret_index=i,
                    signature_index=j,
                )
    raise SignatureMismatchError(signatures=len(parsed.v1), secrets=len(keys))
