"""No card number, CVV or track data is stored or logged anywhere.

The tap in ``tests/card_tap.py`` scans everything o2c writes while the suite runs
(stored records, indexes, idempotency records, outbox events, notifications, log
lines). The last test of the session (moved there by ``tests/conftest.py``) fails if
it saw any 13-19 digit Luhn-valid run.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.card_tap import TAP

from o2c.adapters.memory import MemoryStorage
from o2c.payments import redact_card_numbers
from o2c.testing.card_data import CardDataTap, Finding, card_numbers_in

VISA = "4111111111111111"


def luhn_complete(body: str) -> str:
    """``body`` plus the check digit that makes it Luhn-valid."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these get doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


cards = st.integers(12, 18).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n).map(luhn_complete)
)
filler = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=20)


def test_card_numbers_in_finds_spaced_and_hyphenated_cards() -> None:
    text = "a 4111 1111 1111 1111 b 5555-5555-5555-4444 c 1234"
    assert card_numbers_in(text) == [VISA, "5555555555554444"]


def test_track_two_data_contains_the_card_number() -> None:
    assert card_numbers_in(f";{VISA}=2912101000000?") == [VISA]


def test_ordinary_numbers_are_not_cards() -> None:
    assert card_numbers_in("INV-2026-000001 paid 12.50 EUR on 2026-03-02") == []


@given(card=cards, before=filler, after=filler)
def test_any_luhn_valid_run_is_found(card: str, before: str, after: str) -> None:
    text = f"{before} {card} {after}"
    assert card in card_numbers_in(text)
    tap = CardDataTap(context="t")
    tap.scan(text, where="here")
    assert Finding(where="here", digits=card, context="t") in tap.findings


@given(card=cards, before=filler, after=filler)
def test_redacted_text_holds_no_card(card: str, before: str, after: str) -> None:
    assert card_numbers_in(redact_card_numbers(f"{before} {card} {after}")) == []


def test_tap_scans_repr_of_values_and_counts() -> None:
    tap = CardDataTap()
    tap.scan({"note": VISA}, where="dict")
    tap.scan(42, where="int")
    assert tap.scanned == 2
    assert [f.digits for f in tap.findings] == [VISA]
    tap.clear()
    assert tap.findings == []


def test_the_suite_tap_sees_storage_and_logs(request: pytest.FixtureRequest) -> None:
    # Plant card data through the tapped write points, then take the findings back.
    mine = request.node.nodeid
    storage = MemoryStorage()
    with storage.begin() as uow:
        uow.put("order", "SO-X", f"note {VISA}", {"customer_id": "c"})
        uow.commit()
    logging.getLogger("o2c.test").debug("card %s", VISA)
    planted = [f for f in TAP.findings if f.context == mine]
    wheres = {f.where for f in planted}
    assert {f.digits for f in planted} == {VISA}
    assert "storage order SO-X" in wheres
    assert "log o2c.test" in wheres
    TAP.findings[:] = [f for f in TAP.findings if f.context != mine]


def test_nothing_o2c_wrote_in_the_suite_holds_card_data(request: pytest.FixtureRequest) -> None:
    # Runs last (tests/conftest.py moves it there).
    if request.session.testscollected <= 1:
        pytest.skip("run with the rest of the suite: nothing else wrote anything")
    assert TAP.scanned > 0, "the card-data tap saw no writes: is it installed?"
    shown = "\n".join(f"{f.context}: {f.where}: {f.digits}" for f in TAP.findings[:20])
    assert not TAP.findings, f"card data written during the suite:\n{shown}"
