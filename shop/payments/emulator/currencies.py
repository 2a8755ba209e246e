"""The currencies Stripe supports for card payments (ISO 4217, lower case), and how
Stripe writes an amount of each in its error messages."""


def _codes(text: str) -> tuple[str, ...]:
    """Currency codes written as one line of text, as Stripe's own list reads."""
    return tuple(text.split())


#: Presentment currencies Stripe accepts; `usd` first, as Stripe lists them.
SUPPORTED = _codes(
    "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd "
    "bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp "
    "gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw "
    "kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad "
    "ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek "
    "sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst "
    "xaf xcd xof xpf yer zar zmw"
)

#: Currencies whose amounts are whole units (no minor unit): 500 jpy is ¥500.
ZERO_DECIMAL = frozenset(_codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf"))
#: Currencies with three decimals: 1000 kwd minor units is 1.000 KWD.
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def is_supported(currency: str) -> bool:
    """Whether Stripe takes payments in this (lower-case) currency."""
    return currency in _SUPPORTED_SET


def format_amount(amount: int, currency: str) -> str:
    """An amount in minor units as Stripe writes it in messages: `$12.50`, `¥500`."""
    digits = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    major = f"{amount / 10**digits:,.{digits}f}" if digits else f"{amount:,}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"


_SUPPORTED_SET = frozenset(SUPPORTED)
