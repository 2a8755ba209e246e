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
