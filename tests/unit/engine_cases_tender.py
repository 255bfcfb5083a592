"""Engine cases of payment methods, split tender, refunds and COD remittances
(collected by tests/unit/engine_cases.py).

Ids are deterministic: store-credit entries are ``SC-000001`` ..., tenders
``TND-000001`` ..., and the first awaited transfer's reference is ``RF93TND000001``.
"""

from __future__ import annotations

from tests.unit.engine_cases import (
    CARD,
    ORDER,
    PAYMENT,
    RECEIPT,
    SHIPMENT,
    Case,
    World,
    confirmed,
    customer,
    eur,
)

from o2c.errors import (
    InsufficientStoreCreditError,
    RefundExceedsRefundableError,
    RemittanceFieldError,
    TenderExceedsOrderTotalError,
    UnknownTransferReferenceError,
)

__all__ = ["CASES", "FIRST_TRANSFER", "TENDER"]

TENDER = "TND-000001"
#: The creditor reference of TND-000001 (ISO 11649 check digits 93).
FIRST_TRANSFER = "RF93TND000001"


def credited(w: World) -> None:
    """Ada holds 50.00 EUR of store credit (SC-000001)."""
    customer(w)
    w.engine.grant_store_credit("setup-grant", "ada", eur("50.00"), reason="late parcel")


def credited_order(w: World) -> None:
    """SO-1 (119.00 EUR) is confirmed and Ada holds 50.00 EUR of store credit."""
    confirmed(w)
    w.engine.grant_store_credit("setup-grant", "ada", eur("50.00"), reason="late parcel")


def transfer_expected(w: World) -> None:
    """SO-1 awaits a bank transfer of its 119.00 EUR (TND-000001, RF93TND000001)."""
    confirmed(w)
    w.engine.expect_bank_transfer("setup-expect", ORDER)


def transfer_arrived(w: World) -> None:
    """SO-1 is invoiced (INV-000001) and awaits a transfer; 119.00 EUR arrived quoting
    its reference in the statement text (RC-000001, no customer yet)."""
    transfer_expected(w)
    w.engine.invoice_order("setup-invoice", ORDER, "ordered")
    w.engine.receive_payment(
        "setup-wire", amount=eur("119.00"), reference="SO-1 RF93 TND0 0000 1 thanks"
    )


def split_paid(w: World) -> None:
    """SO-1 is invoiced and paid by 50.00 EUR of store credit (TND-000001) and a card
    captured for the other 69.00 EUR (PAY-000001)."""
    credited_order(w)
    w.engine.pay_with_store_credit("setup-store-credit", ORDER)
    w.engine.authorize_payment("setup-authorize", ORDER, token=CARD)
    w.engine.invoice_order("setup-invoice", ORDER, "ordered")
    w.engine.capture_payment("setup-capture", PAYMENT)


def cod_delivered(w: World) -> None:
    """SO-1 went cash on delivery by DHL (SH-000001, 119.00 EUR) and was delivered:
    DHL owes the cash."""
    confirmed(w)
    w.engine.ship("setup-ship", ORDER, cod_amount=eur("119.00"))
    w.clock.advance(days=5)
    w.engine.track_shipment("setup-track", SHIPMENT)


CASES: tuple[Case, ...] = (
    Case(
        "grant_store_credit",
        customer,
        {"customer_id": "ada", "amount": eur("20.00"), "reason": "late parcel"},
        {"customer_id": "bob", "amount": eur("21.00"), "reason": "broken mug"},
        bad={"customer_id": "nobody"},
    ),
    Case(
        "revoke_store_credit",
        credited,
        {"customer_id": "ada", "amount": eur("10.00"), "reason": "expired"},
        {"customer_id": "bob", "amount": eur("11.00"), "reason": "granted twice"},
        bad={"amount": eur("500.00")},
        bad_error=InsufficientStoreCreditError,
    ),
    Case(
        "pay_with_store_credit",
        credited_order,
        {"order_id": ORDER, "amount": None},
        {"order_id": "SO-2", "amount": eur("20.00")},
        bad={"amount": eur("90.00")},  # more than the 50.00 balance
        bad_error=InsufficientStoreCreditError,
    ),
    Case(
        "expect_bank_transfer",
        confirmed,
        {"order_id": ORDER, "amount": None},
        {"order_id": "SO-2", "amount": eur("50.00")},
        bad={"amount": eur("500.00")},  # more than the order's 119.00
        bad_error=TenderExceedsOrderTotalError,
    ),
    Case(
        "apply_bank_transfer",
        transfer_arrived,
        {"receipt_id": RECEIPT, "reference": None},
        {"receipt_id": "RC-000002", "reference": FIRST_TRANSFER},
        bad={"reference": "SO-1 thanks"},
        bad_error=UnknownTransferReferenceError,
    ),
    Case(
        "cancel_bank_transfer",
        transfer_expected,
        {"tender_id": TENDER},
        {"tender_id": "TND-000002"},
        bad={"tender_id": "TND-404"},
    ),
    Case(
        "refund_order",
        split_paid,
        {"order_id": ORDER, "amount": eur("60.00")},  # 50.00 store credit, 10.00 card
        {"order_id": "SO-2", "amount": None},
        bad={"amount": eur("500.00")},
        bad_error=RefundExceedsRefundableError,
    ),
    Case(
        "record_cod_remittance",
        cod_delivered,
        {
            "carrier": "dhl",
            "remittance_id": "R-1",
            "items": [(SHIPMENT, eur("119.00"))],
            "fee": eur("2.00"),
        },
        {
            "carrier": "ups",
            "remittance_id": "R-2",
            "items": [(SHIPMENT, eur("100.00"))],
            "fee": None,
        },
        bad={"items": []},
        bad_error=RemittanceFieldError,
    ),
)
