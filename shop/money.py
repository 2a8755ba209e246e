"""Money display: integer minor units and an ISO currency code to a price label."""

# Currencies without a minor unit (Stripe's zero-decimal list, the ones a shop meets).
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "chf": "CHF ", "cad": "CA$"}


def format_money(cents: int, currency: str) -> str:
    """Format `cents` of `currency` for people, e.g. 1250, "usd" -> "$12.50"."""
    code = currency.lower()
    symbol = SYMBOLS.get(code, code.upper() + " ")
    sign = "-" if cents < 0 else ""
    if code in ZERO_DECIMAL:
        return f"{sign}{symbol}{abs(cents):,}"
    whole, minor = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{minor:02d}"


def parse_amount(text: str, currency: str) -> int:
    """An amount as a person types it (`12.50`, `12`, `1,250.00`) in minor units of
    `currency`; ValueError saying what to type instead."""
    code = currency.lower()
    decimals = 0 if code in ZERO_DECIMAL else 2
    cleaned = text.strip().replace(",", "")
    example = "1250" if decimals == 0 else "12.50"
    wanted = f"Enter an amount like {example}, more than zero."
    whole, _, minor = cleaned.partition(".")
    if not whole.isascii() or not (whole.isdigit() or (not whole and minor)):
        raise ValueError(wanted)
    if minor and (decimals == 0 or not minor.isascii() or not minor.isdigit() or len(minor) > 2):
        raise ValueError(f"{wanted} ({code.upper()} has {decimals} decimal places.)")
    if len(whole) > 9:
        raise ValueError(wanted)
    cents = int(whole or "0") * 10**decimals + int(minor.ljust(decimals, "0") or "0")
    if cents <= 0:
        raise ValueError(wanted)
    return cents
