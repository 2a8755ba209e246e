"""Amounts as an admin types them: a comma groups thousands, or the amount is refused."""

import pytest

from shop.money import parse_amount


@pytest.mark.parametrize(
    ("typed", "currency", "cents"),
    [
        ("12.50", "usd", 1250),
        ("12", "usd", 1200),
        (".5", "usd", 50),
        ("1,234.50", "usd", 123450),
        ("1,234", "usd", 123400),
        ("12,345,678", "usd", 1234567800),
        (" 1,000.00 ", "usd", 100000),
        ("1,250", "jpy", 1250),
    ],
)
def test_commas_that_group_thousands_are_read(typed, currency, cents):
    assert parse_amount(typed, currency) == cents


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("0,05", "Use a point for the decimals: 0.05"),
        ("12,5", "Use a point for the decimals: 12.5"),
        ("12,50", "Use a point for the decimals: 12.50"),
        (",05", "Use a point for the decimals: .05"),
    ],
)
def test_a_decimal_comma_is_refused_with_the_amount_to_type(typed, words):
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        parse_amount(typed, "usd")


@pytest.mark.parametrize(
    "typed",
    [
        "1,0,0",
        "1,00",
        "12,34,567",
        "1234,567",
        "1,2345",
        ",",
        "1,",
        ",1,000",
        "1,234,5.00",
        "1.000,50",
        "1,000.5,0",
        "1,,000",
        "1,234.5,0",
        "١,٢٣٤",
    ],
)
def test_every_other_comma_is_refused(typed):
    with pytest.raises(ValueError, match="comma|like 12.50"):
        parse_amount(typed, "usd")


def test_a_currency_without_decimals_refuses_a_decimal_comma_too():
    with pytest.raises(ValueError, match="comma only groups thousands"):
        parse_amount("12,5", "jpy")
