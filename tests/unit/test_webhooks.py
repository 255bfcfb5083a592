"""Webhook signatures: Stripe's scheme, verified strictly (o2c.webhooks).

The acceptance vectors come first, one test each; then rotation, the header's
grammar and caps, configuration, and properties (sign then verify round-trips; any
one-byte change of the body or of the signature fails).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c import webhooks
from o2c.errors import (
    ConfigurationError,
    DomainError,
    MalformedSignatureHeaderError,
    MissingTimestampError,
    NaiveDatetimeError,
    NoV1SignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    WebhookError,
    WebhookPayloadError,
    WebhookSecretError,
    WebhookSignatureError,
    WebhookTooLargeError,
)
from o2c.webhooks import (
    MAX_HEADER_CHARS,
    MAX_SECRETS,
    MAX_SIGNATURES,
    parse_signature_header,
    sign_payload,
    signature_for,
    verify_signature,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T = 1_772_442_000  # NOW as Unix time
SECRET = "whsec_test_secret"  # noqa: S105 - a test secret
OTHER = "whsec_someone_else"
BODY = b'{"id":"evt_1","object":"event","type":"charge.succeeded"}'


def v1(body: bytes = BODY, secret: str = SECRET, t: int | str = T) -> str:
    """The v1 signature, computed here independently of o2c.webhooks."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def verify(header: str, body: bytes = BODY, secrets: tuple[str, ...] = (SECRET,)) -> object:
    return verify_signature(body, header, secrets, now=NOW)


# --------------------------------------------------------------------------- vectors


def test_body_changed_by_one_byte_is_a_signature_mismatch() -> None:
    header = f"t={T},v1={v1()}"
    changed = BODY.replace(b"evt_1", b"evt_2")
    assert len(changed) == len(BODY)
    with pytest.raises(SignatureMismatchError) as info:
        verify(header, changed)
    assert (info.value.signatures, info.value.secrets) == (1, 1)


def test_wrong_secret_is_a_signature_mismatch() -> None:
    header = f"t={T},v1={v1(secret=OTHER)}"
    with pytest.raises(SignatureMismatchError):
        verify(header)


def test_missing_t_is_a_missing_timestamp() -> None:
    with pytest.raises(MissingTimestampError):
        verify(f"v1={v1()}")


def test_missing_v1_is_no_v1_signature() -> None:
    with pytest.raises(NoV1SignatureError) as info:
        verify(f"t={T}")
    assert info.value.schemes == ()


def test_only_v0_is_no_v1_signature() -> None:
    # v0 is Stripe's legacy test-mode scheme: never trusted, even when it "matches".
    with pytest.raises(NoV1SignatureError) as info:
        verify(f"t={T},v0={v1()}")
    assert info.value.schemes == ("v0",)


def test_two_v1_with_only_the_second_valid_is_accepted() -> None:
    header = f"t={T},v1={v1(secret=OTHER)},v1={v1()}"
    verified = verify(header)
    assert isinstance(verified, webhooks.Verified)
    assert (verified.secret_index, verified.signature_index) == (0, 1)
    assert verified.signed_at == NOW
    assert verified.age == timedelta(0)


def test_timestamp_301_s_old_is_outside_the_tolerance() -> None:
    t = T - 301
    with pytest.raises(TimestampOutsideToleranceError) as info:
        verify(f"t={t},v1={v1(t=t)}")
    assert (info.value.direction, info.value.age_seconds) == ("past", 301)
    assert info.value.tolerance_seconds == 300


def test_timestamp_301_s_in_the_future_is_outside_the_tolerance() -> None:
    t = T + 301
    with pytest.raises(TimestampOutsideToleranceError) as info:
        verify(f"t={t},v1={v1(t=t)}")
    assert (info.value.direction, info.value.age_seconds) == ("future", -301)


def test_malformed_header_is_refused() -> None:
    with pytest.raises(MalformedSignatureHeaderError) as info:
        verify("this is not a signature header")
    assert "scheme=value" in info.value.reason


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(WebhookSecretError) as info:
        verify_signature(BODY, f"t={T},v1={v1()}", ("",), now=NOW, gateway="stripe")
    assert (info.value.gateway, info.value.reason) == ("stripe", "secret 0 is empty")
    assert isinstance(info.value, ConfigurationError)


# --------------------------------------------------------------------------- tolerance


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_exactly_at_the_tolerance_are_accepted(offset: int) -> None:
    t = T + offset
    verified = verify(f"t={t},v1={v1(t=t)}")
    assert isinstance(verified, webhooks.Verified)
    assert verified.age == timedelta(seconds=-offset)


def test_the_tolerance_is_configurable_and_checked_before_the_hmac() -> None:
    t = T - 60
    header = f"t={t},v1={'0' * 64}"  # a wrong signature: the timestamp fails first
    with pytest.raises(TimestampOutsideToleranceError) as info:
        verify_signature(BODY, header, (SECRET,), now=NOW, tolerance=timedelta(seconds=30))
    assert info.value.tolerance_seconds == 30
    with pytest.raises(SignatureMismatchError):
        verify_signature(BODY, header, (SECRET,), now=NOW, tolerance=timedelta(seconds=60))


def test_a_timestamp_beyond_any_date_is_refused_without_overflow() -> None:
    t = 253_402_300_800  # one second after 9999-12-31T23:59:59Z
    with pytest.raises(MalformedSignatureHeaderError) as info:
        verify(f"t={t},v1={v1(t=t)}")
    assert info.value.reason == "the timestamp is after the year 9999"
    # Within the tolerance of the last instant a datetime holds, it still verifies.
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    header = f"t={t - 1},v1={v1(t=t - 1)}"
    assert verify_signature(BODY, header, (SECRET,), now=last).age == timedelta(0)


def test_the_signed_timestamp_text_is_used_as_sent() -> None:
    # The sender signed "<t as written>.<body>"; leading zeros stay part of it.
    stamp = f"00{T}"
    assert isinstance(verify(f"t={stamp},v1={v1(t=stamp)}"), webhooks.Verified)
    with pytest.raises(SignatureMismatchError):
        verify(f"t={stamp},v1={v1(t=T)}")


def test_now_must_be_aware() -> None:
    with pytest.raises(NaiveDatetimeError):
        verify_signature(BODY, f"t={T},v1={v1()}", (SECRET,), now=NOW.replace(tzinfo=None))


# --------------------------------------------------------------------------- rotation


def test_rotation_accepts_either_secret_and_says_which_matched() -> None:
    old, new = "whsec_old", "whsec_new"
    both = (old, new)
    signed_new = verify_signature(BODY, f"t={T},v1={v1(secret=new)}", both, now=NOW)
    signed_old = verify_signature(BODY, f"t={T},v1={v1(secret=old)}", both, now=NOW)
    assert isinstance(signed_new, webhooks.Verified)
    assert isinstance(signed_old, webhooks.Verified)
    assert (signed_new.secret_index, signed_old.secret_index) == (1, 0)
    # During a rotation Stripe signs with both: either secret alone is enough.
    header = f"t={T},v1={v1(secret=old)},v1={v1(secret=new)}"
    assert verify_signature(BODY, header, (new,), now=NOW).signature_index == 1


def test_every_v1_is_compared_under_every_secret_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, str]] = []
    compare = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", counting)
    header = ",".join([f"t={T}"] + [f"v1={c * 64}" for c in "abc"])
    with pytest.raises(SignatureMismatchError) as info:
        verify_signature(BODY, header, ("whsec_a", "whsec_b"), now=NOW)
    assert (info.value.signatures, info.value.secrets) == (3, 2)
    assert len(calls) == 6
    assert {b for _, b in calls} == {c * 64 for c in "abc"}
    assert len({a for a, _ in calls}) == 2  # one expected signature per secret


# --------------------------------------------------------------------------- the header


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("t", "item 1 is not scheme=value"),
        (f"t={T},,v1={'a' * 64}", "item 2 is not scheme=value"),
        (f"t={T}, v1={'a' * 64}", "item 2 is not scheme=value"),
        (f"t={T},V1={'a' * 64}", "item 2 is not scheme=value"),
        (f"t={T},v1=", "item 2 (v1) has no value"),
        (f"t={T},v1={'a' * 63} ", None),  # stripped, then 63 digits
        (f"t={T},v1={'a' * 63}", "v1 signature 1 is not 64 lower-case hex digits"),
        (f"t={T},v1={'A' * 64}", "v1 signature 1 is not 64 lower-case hex digits"),
        (f"t={T},v1={'g' * 64}", "v1 signature 1 is not 64 lower-case hex digits"),
        (f"t={T},t={T},v1={'a' * 64}", "more than one timestamp"),
        (f"t=-{T},v1={'a' * 64}", "the timestamp is not a Unix time in seconds"),
        (f"t={T}.5,v1={'a' * 64}", "the timestamp is not a Unix time in seconds"),
        (f"t=1234567890123,v1={'a' * 64}", "the timestamp is not a Unix time in seconds"),
        ("t=١٧٧٢٤٤٢٠٠٠,v1=" + "a" * 64, "has no value or a character not allowed"),
        (f"t={T},v1={'a' * 64},v2=caf\u00e9", "has no value or a character not allowed"),
        ("x" * (MAX_HEADER_CHARS + 1), f"longer than {MAX_HEADER_CHARS} characters"),
        (",".join(["v0=a"] * 33), "more than 32 items"),
    ],
)
def test_malformed_headers_say_why(header: str, reason: str | None) -> None:
    with pytest.raises(MalformedSignatureHeaderError) as info:
        parse_signature_header(header)
    assert reason is None or reason in info.value.reason


def test_a_header_that_is_not_text_is_malformed() -> None:
    with pytest.raises(MalformedSignatureHeaderError) as info:
        verify_signature(BODY, f"t={T},v1={v1()}".encode(), (SECRET,), now=NOW)  # type: ignore[arg-type]
    assert "bytes" in info.value.reason


def test_at_most_so_many_v1_signatures_are_read() -> None:
    enough = ",".join([f"t={T}"] + [f"v1={'a' * 64}"] * MAX_SIGNATURES)
    assert len(parse_signature_header(enough).v1) == MAX_SIGNATURES
    with pytest.raises(MalformedSignatureHeaderError) as info:
        parse_signature_header(f"{enough},v1={'b' * 64}")
    assert info.value.reason == f"more than {MAX_SIGNATURES} v1 signatures"


def test_the_header_is_read_in_full() -> None:
    parsed = parse_signature_header(f"  t={T},v0=legacy,v1={'a' * 64},v9=future,v1={'b' * 64}\r\n")
    assert parsed.timestamp == T
    assert parsed.timestamp_text == str(T)
    assert parsed.v1 == ("a" * 64, "b" * 64)
    assert parsed.schemes == ("v0", "v1", "v9")


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("secrets", "reason"),
    [
        (None, "no secret configured"),
        ((), "no secret configured"),
        ("whsec_a_bare_string", "a tuple of secret strings is required"),
        (b"whsec_bytes", "a tuple of secret strings is required"),
        (42, "a tuple of secret strings is required"),
        ((SECRET, 42), "secret 1 is not a string"),
        ((" whsec_x",), "secret 0 has surrounding whitespace"),
        (("whsec_x\n",), "secret 0 has surrounding whitespace"),
        (("w" * 1025,), "secret 0 is longer than 1024 characters"),
        (("whsec_x",) * (MAX_SECRETS + 1), f"more than {MAX_SECRETS} secrets"),
    ],
)
def test_unusable_secrets_are_configuration_errors(secrets: object, reason: str) -> None:
    with pytest.raises(WebhookSecretError) as info:
        verify_signature(BODY, f"t={T},v1={v1()}", secrets, now=NOW)  # type: ignore[arg-type]
    assert info.value.reason == reason


def test_a_secret_list_is_accepted_like_a_tuple() -> None:
    assert webhooks.check_secrets("stripe", [SECRET, "whsec_2"]) == (SECRET, "whsec_2")


@pytest.mark.parametrize(
    ("setting", "kwargs"),
    [
        ("webhook_tolerance", {"tolerance": timedelta(seconds=-1)}),
        ("webhook_tolerance", {"tolerance": timedelta(days=1, seconds=1)}),
        ("webhook_tolerance", {"tolerance": 300}),
        ("webhook_max_body_bytes", {"max_body_bytes": -1}),
        ("webhook_max_body_bytes", {"max_body_bytes": True}),
        ("webhook_max_body_bytes", {"max_body_bytes": 1.5}),
    ],
)
def test_bad_limits_are_configuration_errors(setting: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError) as info:
        verify_signature(BODY, f"t={T},v1={v1()}", (SECRET,), now=NOW, **kwargs)  # type: ignore[arg-type]
    assert info.value.setting == setting


def test_a_body_over_the_limit_is_refused_unread() -> None:
    header = f"t={T},v1={v1()}"
    assert isinstance(
        verify_signature(BODY, header, (SECRET,), now=NOW, max_body_bytes=len(BODY)),
        webhooks.Verified,
    )
    with pytest.raises(WebhookTooLargeError) as info:
        verify_signature(BODY, header, (SECRET,), now=NOW, max_body_bytes=len(BODY) - 1)
    assert (info.value.size, info.value.limit) == (len(BODY), len(BODY) - 1)


def test_a_body_must_be_the_raw_bytes() -> None:
    with pytest.raises(WebhookPayloadError) as info:
        verify_signature(BODY.decode(), f"t={T},v1={v1()}", (SECRET,), now=NOW)  # type: ignore[arg-type]
    assert info.value.path == "(body)"
    assert "str" in info.value.reason


def test_every_refusal_is_one_family() -> None:
    for cls in (
        MalformedSignatureHeaderError,
        MissingTimestampError,
        NoV1SignatureError,
        TimestampOutsideToleranceError,
        SignatureMismatchError,
        WebhookSecretError,
        WebhookTooLargeError,
    ):
        assert issubclass(cls, WebhookSignatureError)
    assert issubclass(WebhookSignatureError, WebhookError)
    assert issubclass(WebhookPayloadError, WebhookError)
    assert issubclass(WebhookError, DomainError)
    assert (
        len({c.code for c in (WebhookSignatureError, *WebhookSignatureError.__subclasses__())}) == 8
    )


# --------------------------------------------------------------------------- signing


def test_sign_payload_makes_the_header_stripe_sends() -> None:
    assert sign_payload(BODY, SECRET, T) == f"t={T},v1={v1()}"
    assert sign_payload(BODY, SECRET, NOW) == f"t={T},v1={v1()}"
    # Whole seconds are signed.
    assert sign_payload(BODY, SECRET, NOW + timedelta(microseconds=999_999)) == sign_payload(
        BODY, SECRET, NOW
    )
    assert signature_for(BODY, SECRET, T) == v1()


@pytest.mark.parametrize("timestamp", [-1, True, 253_402_300_800, 1.5])
def test_sign_payload_refuses_what_is_not_a_unix_time(timestamp: object) -> None:
    with pytest.raises(MalformedSignatureHeaderError):
        sign_payload(BODY, SECRET, timestamp)  # type: ignore[arg-type]


def test_sign_payload_checks_its_inputs() -> None:
    with pytest.raises(WebhookSecretError):
        sign_payload(BODY, "", T)
    with pytest.raises(WebhookPayloadError):
        sign_payload("text", SECRET, T)  # type: ignore[arg-type]
    with pytest.raises(NaiveDatetimeError):
        sign_payload(BODY, SECRET, NOW.replace(tzinfo=None))


# --------------------------------------------------------------------------- properties

secrets_ = st.text(
    st.characters(min_codepoint=33, blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s == s.strip())
offsets = st.integers(-300, 300)


@given(
    body=st.binary(max_size=2048),
    secret=secrets_,
    signed=st.integers(300, 253_402_300_799 - 300),
    offset=offsets,
    micros=st.integers(0, 999_999),
)
def test_sign_then_verify_round_trips(
    body: bytes, secret: str, signed: int, offset: int, micros: int
) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    now = epoch + timedelta(seconds=signed + offset)
    if offset != -300:  # a fraction of a second more would be past the tolerance
        now += timedelta(microseconds=micros if offset < 300 else 0)
    header = sign_payload(body, secret, signed)
    verified = verify_signature(body, header, ("whsec_other", secret), now=now)
    assert verified.secret_index == 1
    assert verified.signed_at == epoch + timedelta(seconds=signed)
    assert verified.age == now - verified.signed_at


@given(body=st.binary(min_size=1, max_size=512), secret=secrets_, data=st.data())
def test_any_one_byte_change_of_the_body_fails(
    body: bytes, secret: str, data: st.DataObject
) -> None:
    header = sign_payload(body, secret, T)
    i = data.draw(st.integers(0, len(body) - 1), label="position")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != body[i]), label="byte")
    changed = body[:i] + bytes([new]) + body[i + 1 :]
    with pytest.raises(SignatureMismatchError):
        verify_signature(changed, header, (secret,), now=NOW)


@given(body=st.binary(max_size=256), secret=secrets_, data=st.data())
def test_any_one_character_change_of_the_signature_fails(
    body: bytes, secret: str, data: st.DataObject
) -> None:
    header = sign_payload(body, secret, T)
    start = header.index("v1=") + 3
    i = data.draw(st.integers(start, len(header) - 1), label="position")
    new = data.draw(
        st.characters(min_codepoint=33, max_codepoint=126).filter(lambda c: c != header[i]),
        label="character",
    )
    with pytest.raises(WebhookSignatureError):
        verify_signature(body, header[:i] + new + header[i + 1 :], (secret,), now=NOW)
