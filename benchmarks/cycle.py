"""Push N orders through the whole cycle on the in-memory adapters, and time it.

Each order: place (credit check, stock reservation), authorize a card payment, ship
through the fake carrier (rate, label, hand-over), deliver, invoice, capture (the
receipt is applied to the invoice) and close. The table shows where the time goes,
per engine call; ``--profile`` adds the top functions by own time.

    python benchmarks/cycle.py --orders 5000

The last line is machine-readable:
``cycle backend=memory orders=N seconds=S orders_per_s=R``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from o2c.adapters.fake_carrier import FakeCarrier
from o2c.adapters.fake_gateway import FakeGateway
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C
from o2c.money import Money
from o2c.orders import OrderLine
from o2c.pricing import TaxRate


def build(customers: int) -> tuple[O2C, list[str]]:
    """An engine with customers and plenty of stock."""
    clock = FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    engine = O2C(
        clock=clock,
        gateways={"fake": FakeGateway()},
        carriers={"fake": FakeCarrier(clock=clock)},
    )
    address = Address(name="Buyer", lines=("1 Main St",), city="Berlin", country="DE")
    ids = []
    for i in range(customers):
        cid = f"C{i:05d}"
        engine.add_customer(
            f"cust-{cid}",
            Customer(
                id=cid,
                name=f"Customer {i}",
                currency="EUR",
                billing_address=address,
                shipping_addresses=(address,),
                payment_terms="NET30",
                credit_limit=Money("1000000.00", "EUR"),
            ),
        )
        ids.append(cid)
    for sku in ("MUG", "TEE"):
        engine.receive_stock(f"stock-{sku}", sku, 10_000_000)
    return engine, ids


def run(orders: int, customers: int) -> tuple[float, dict[str, float]]:
    """Run the cycle; returns total seconds and seconds per engine call."""
    engine, ids = build(customers)
    vat = (TaxRate("DE-19", Decimal(19)),)
    lines = [
        OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=Decimal(2),
            unit_price=Money("12.50", "EUR"),
            tax_rates=vat,
        ),
        OrderLine(
            line_id="2",
            sku="TEE",
            description="T-shirt",
            quantity=Decimal(1),
            unit_price=Money("20.00", "EUR"),
            tax_rates=vat,
        ),
    ]
    steps = ("place_order", "authorize", "ship", "deliver", "invoice", "capture", "close")
    spent = dict.fromkeys(steps, 0.0)
    clock = time.perf_counter
    token = "tok_ok"  # noqa: S105 - the fake gateway approves any token but the decline ones
    start = clock()
    for n in range(orders):
        k = f"o{n}"
        t0 = clock()
        order = engine.place_order(k + "p", customer_id=ids[n % len(ids)], lines=lines)
        t1 = clock()
        pay = engine.authorize_payment(k + "a", order.id, token=token)
        t2 = clock()
        ship = engine.ship(k + "s", order.id)
        t3 = clock()
        engine.confirm_delivery(k + "d", ship.id)
        t4 = clock()
        engine.invoice_order(k + "i", order.id)
        t5 = clock()
        engine.capture_payment(k + "c", pay.id)
        t6 = clock()
        closed = engine.close_order(k + "x", order.id)
        t7 = clock()
        for name, a, b in zip(
            steps, (t0, t1, t2, t3, t4, t5, t6), (t1, t2, t3, t4, t5, t6, t7), strict=True
        ):
            spent[name] += b - a
        if closed.state.value != "completed":
            raise SystemExit(f"order {order.id} ended {closed.state.value}")
    return clock() - start, dict(spent)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--backend", choices=["memory"], default="memory")
    parser.add_argument("--profile", action="store_true", help="also print the top functions")
    args = parser.parse_args(argv)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
    seconds, spent = run(args.orders, args.customers)
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    print(f"{'step':<14}{'seconds':>9}{'share':>8}{'us/order':>10}")
    for name, secs in sorted(spent.items(), key=lambda kv: -kv[1]):
        share = secs / seconds * 100
        print(f"{name:<14}{secs:>9.3f}{share:>7.1f}%{secs / args.orders * 1e6:>10.0f}")
    rate = args.orders / seconds
    print(
        f"cycle backend={args.backend} orders={args.orders} seconds={seconds:.3f} "
        f"orders_per_s={rate:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
