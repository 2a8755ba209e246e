"""What a session's lines come to: the discount spread over the lines, then tax per line.

As Stripe does it: a coupon takes its percentage (or its amount, at most the subtotal) off
the items, never off shipping, shared between the lines in proportion to what each costs;
then each line's tax is computed on what it costs after its share of the discount, and
rounded on that line (half away from zero):

- exclusive rate: tax = round(amount × rate), added to the total;
- inclusive rate: tax = amount − round(amount ÷ (1 + rate)), already in the price.

Worked examples (tests/test_promotions_emulator.py checks them): Stripe's own, $0.43 and
$4.84 at 15% exclusive carry $0.06 and $0.73 (per line, not 15% of $5.27), so $6.06 in all,
and €600 with 10% inclusive still totals €600 (€660 exclusive); and ours, one €10.00 line
at 20% inclusive carries €1.67, at 20% exclusive €2.00 for €12.00.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

HUNDRED = Decimal(100)


def round_half_up(value: Decimal) -> int:
    """To whole minor units, halves away from zero (never banker's rounding)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def discount_of(subtotal: int, coupon: dict[str, Any] | None) -> int:
    """What a coupon snapshot (`percent_off` as a string, or `amount_off`) takes off."""
    if not coupon:
        return 0
    if coupon.get("percent_off") is not None:
        return min(subtotal, round_half_up(subtotal * Decimal(coupon["percent_off"]) / HUNDRED))
    return min(subtotal, int(coupon["amount_off"]))


def split(total: int, weights: list[int]) -> list[int]:
    """`total` shared in proportion to `weights`, whole units summing exactly to `total`
    (the largest remainders get the leftover units, the first line winning a tie)."""
    whole = sum(weights)
    if whole == 0 or total == 0:
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[
        : total - sum(shares)
    ]:
        shares[index] += 1
    return shares


def line_tax(amount: int, rate: dict[str, Any] | None) -> int:
    """The tax one line carries on `amount` (after its discount) at a rate snapshot."""
    if not rate or amount <= 0:
        return 0
    percentage = Decimal(rate["percentage"])
    if rate["inclusive"]:
        return amount - round_half_up(amount * HUNDRED / (HUNDRED + percentage))
    return round_half_up(amount * percentage / HUNDRED)


def price(lines: list[dict[str, Any]], coupon: dict[str, Any] | None) -> dict[str, Any]:
    """The lines with `amount_discount` and `amount_tax` set, and the session's sums:
    `amount_subtotal` (list prices), `amount_discount`, `amount_tax` and `items_total`
    (what the items cost the customer: the subtotal less the discount plus exclusive tax)."""
    subtotals = [line["unit_amount"] * line["quantity"] for line in lines]
    subtotal = sum(subtotals)
    shares = split(discount_of(subtotal, coupon), subtotals)
    priced, tax, added = [], 0, 0
    for line, line_subtotal, share in zip(lines, subtotals, shares, strict=True):
        rate = (line.get("tax_rates") or [None])[0]
        line_tax_amount = line_tax(line_subtotal - share, rate)
        tax += line_tax_amount
        if rate and not rate["inclusive"]:
            added += line_tax_amount
        priced.append({**line, "amount_discount": share, "amount_tax": line_tax_amount})
    discount = sum(shares)
    return {
        "lines": priced,
        "amount_subtotal": subtotal,
        "amount_discount": discount,
        "amount_tax": tax,
        "items_total": subtotal - discount + added,
    }
