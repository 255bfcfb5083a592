"""Small builders shared by the engine tests."""

from __future__ import annotations

from decimal import Decimal

from o2c.customers import Address, Customer
from o2c.money import Money
from o2c.orders import OrderLine
from o2c.pricing import TaxRate

HOME = Address(name="Ada", lines=("1 Main St",), city="Berlin", country="DE")
VAT19 = (TaxRate("DE-19", Decimal(19)),)


def customer(cid: str = "ada", limit: str = "1000.00", locale: str = "en_US") -> Customer:
    """A EUR customer on NET30 with a credit limit."""
    return Customer(
        id=cid,
        name=cid.title(),
        currency="EUR",
        billing_address=HOME,
        shipping_addresses=(HOME,),
        payment_terms="NET30",
        credit_limit=Money(limit, "EUR"),
        locale=locale,
    )


def mugs(qty: int, price: str = "50.00") -> list[OrderLine]:
    """One order line of ``qty`` mugs at ``price`` plus 19 % VAT."""
    return [
        OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=Decimal(qty),
            unit_price=Money(price, "EUR"),
            tax_rates=VAT19,
        )
    ]
