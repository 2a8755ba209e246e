"""Settings read from the environment, checked once at start-up.

Every variable read here is declared in `shop/settings.py` (name, parser, default, doc),
from which `.env.example` and `docs/configuration.md` are generated; the defaults, the
ranges of whole numbers and the list of abuse limits below come from there.
Production is anything that is neither debug (`FLASK_DEBUG=1`, as `make run`
sets) nor testing; there, a missing or contradictory setting stops start-up
with one line naming the variable.
"""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import currencies, settings, shipping
from .connections import BEGIN_WITH_FIRST_STATEMENT

#: The webhook secret the emulator signs with when none is configured, in development and
#: tests only: it is published, so production refuses it (a demo gets a generated one).
EMULATOR_WEBHOOK_SECRET = "whsec_emulator_development_only"
#: The API key the emulator accepts over HTTP outside production (it is published).
EMULATOR_API_KEY = "sk_test_emulator"
#: Accepted values of LOG_LEVEL.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: HSTS lifetime sent over https in production: one year.
HSTS_SECONDS = 365 * 24 * 3600
#: Upper bound for CART_MAX_QUANTITY, far below where `quantity + n` could overflow a column.
CART_MAX_QUANTITY_LIMIT = settings.SETTINGS["CART_MAX_QUANTITY"].parser.maximum
#: Upper bound for CHECKOUT_SESSION_TTL_MINUTES: Stripe's longest session, a day.
CHECKOUT_SESSION_TTL_LIMIT = settings.SETTINGS["CHECKOUT_SESSION_TTL_MINUTES"].parser.maximum


#: The longest a login lasts, remembered or not: then the customer signs in again.
LOGIN_MAX_AGE = timedelta(days=30)

#: Have I Been Pwned's Pwned Passwords range API (PWNED_PASSWORDS=1).
PWNED_PASSWORDS_API = "https://api.pwnedpasswords.com"

#: Rate-limit storage schemes the pinned dependencies support (Flask-Limiter via `limits`).
RATELIMIT_SCHEMES = ("memory", "redis", "rediss", "redis+unix")

#: Abuse limits (Flask-Limiter notation) and their defaults, each overridable by the
#: environment variable of the same name: every RATE_LIMIT setting of shop/settings.py.
#: Login limits count failed attempts only.
RATE_LIMITS = settings.rate_limits()


#: MAIL_URL schemes and their default ports: SMTP (upgraded by `?starttls=1`), SMTP over TLS.
MAIL_PORTS = {"smtp": 25, "smtps": 465}
#: The sender in development when MAIL_FROM is unset (production needs one with MAIL_URL).
DEVELOPMENT_MAIL_FROM = "Northside Roastery <orders@northside.example>"


class ConfigError(RuntimeError):
    """A setting is missing or contradicts another; the message names the variable."""


@dataclass(frozen=True)
class MailServer:
    """The SMTP server MAIL_URL names: where the worker hands messages over."""

    host: str
    port: int
    #: "plain", "starttls" (upgrade after connecting) or "tls" (TLS from the first byte).
    security: Literal["plain", "starttls", "tls"]
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line


def _flag(value: str | None) -> bool:
    """Read an environment flag: 1/true/yes/on are true, anything else false."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, minimum: int | None = None) -> int:
    """Read a whole-number setting, refusing anything else with a named error.

    The default and the minimum are the setting's own (shop/settings.py) unless `minimum`
    is given, for a bound that depends on another setting.
    """
    if minimum is None:
        minimum = settings.minimum(name)
    raw = env.get(name, "").strip()
    if not raw:
        return settings.whole_default(name)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _emulator_webhooks(env: Mapping[str, str]) -> bool:
    """Read STRIPE_EMULATOR_WEBHOOKS (default 1): 0 records events without delivering them."""
    raw = env.get("STRIPE_EMULATOR_WEBHOOKS", "").strip().lower() or settings.default(
        "STRIPE_EMULATOR_WEBHOOKS"
    )
    if raw not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
        raise ConfigError(f"STRIPE_EMULATOR_WEBHOOKS must be 1 or 0, got {raw!r}")
    return _flag(raw)


def _emulator_api_key(env: Mapping[str, str], production: bool) -> str | None:
    """Read STRIPE_EMULATOR_API_KEY, the key of the emulator's HTTP API in production."""
    key = env.get("STRIPE_EMULATOR_API_KEY", "").strip()
    if production and key == EMULATOR_API_KEY:
        raise ConfigError(
            f"STRIPE_EMULATOR_API_KEY must not be the published development key {key}: "
            "choose a long random one"
        )
    return key or None


def log_level(env: Mapping[str, str]) -> str:
    """Read LOG_LEVEL (default INFO), refusing names the logging module does not know."""
    raw = env.get("LOG_LEVEL", "").strip().upper() or settings.default("LOG_LEVEL")
    if raw not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """Read a rate limit such as `10 per minute` (several joined by `;`), refusing typos."""
    from limits import parse_many

    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must read like '10 per minute', got {raw!r}") from None
    return raw


def ratelimit_storage_uri(raw: str | None) -> str:
    """Where rate-limit counters live: memory (per process) unless a Redis URL is given."""
    raw = (raw or "").strip()
    if not raw:
        return "memory://"
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in RATELIMIT_SCHEMES:
        # The URL may hold a password: name only the scheme.
        raise ConfigError(
            "RATELIMIT_STORAGE_URI must be memory:// or a redis://, rediss:// or "
            f"redis+unix:// URL, got scheme {scheme or '(none)'!r}"
        )
    return raw


def ratelimit_storage(env: Mapping[str, str]) -> str:
    """RATELIMIT_STORAGE_URI, else REDIS_URL as a PaaS add-on sets it, else memory."""
    explicit = env.get("RATELIMIT_STORAGE_URI", "").strip()
    return ratelimit_storage_uri(explicit or env.get("REDIS_URL"))


def require_shared_rate_limits(env: Mapping[str, str]) -> None:
    """The web process in production: refuse to count rate limits per worker behind several
    workers (each would allow the full limit) unless RATELIMIT_STORAGE_URI=memory:// says
    so. Checked by gunicorn.conf.py, since only the web process serves what is limited."""
    explicit = env.get("RATELIMIT_STORAGE_URI", "").strip()
    workers = _int(env, "WEB_CONCURRENCY")
    if not explicit and ratelimit_storage(env) == "memory://" and workers > 1:
        raise ConfigError(
            f"REDIS_URL is not set: with WEB_CONCURRENCY={workers} each worker would count "
            "rate limits on its own; set REDIS_URL (or RATELIMIT_STORAGE_URI) to a Redis, or "
            "RATELIMIT_STORAGE_URI=memory:// to accept per-worker counting"
        )


def public_url(raw: str | None, production: bool) -> str | None:
    """PUBLIC_URL as `scheme://host[:port]`: required in production, None otherwise if unset."""
    raw = (raw or "").strip()
    if not raw:
        if production:
            raise ConfigError(
                "PUBLIC_URL is not set: production builds every absolute url from it "
                "(e.g. https://shop.example.com)"
            )
        return None
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ConfigError(f"PUBLIC_URL must look like https://shop.example.com, got {raw!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def trusted_hosts(raw: str | None, public: str | None) -> list[str]:
    """The hosts requests may name: PUBLIC_URL's, plus TRUSTED_HOSTS (comma-separated)."""
    hosts = [urlsplit(public).hostname or ""] if public else []
    for host in (raw or "").split(","):
        host = host.strip().lower()
        if not host:
            continue
        if "/" in host or "@" in host or host.strip(".") == "":
            raise ConfigError(f"TRUSTED_HOSTS lists host names like www.example.com, got {host!r}")
        hosts.append(host)
    if hosts and not public:
        raise ConfigError("TRUSTED_HOSTS needs PUBLIC_URL: urls are built from PUBLIC_URL")
    return hosts


def stripe_webhook_secret(env: Mapping[str, str], production: bool, emulator: bool) -> str | None:
    """STRIPE_WEBHOOK_SECRET; in development the published emulator secret when unset.

    None means "generated once per installation" (production on the emulator): see
    `shop.payments.installation`. Production never accepts the published constant.
    """
    secret = env.get("STRIPE_WEBHOOK_SECRET", "").strip()
    if production and secret == EMULATOR_WEBHOOK_SECRET:
        raise ConfigError(
            "STRIPE_WEBHOOK_SECRET is the published development secret: production needs "
            "its own (or none on the emulator, which then generates one)"
        )
    if not secret and emulator and not production:
        return EMULATOR_WEBHOOK_SECRET
    return secret or None


def mail_server(raw: str | None) -> MailServer | None:
    """Read MAIL_URL (`smtp://user:pass@host:port`, `smtps://...`, `?starttls=1`); None if unset.

    Errors name the variable and the problem but never echo the URL: it holds a password.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in MAIL_PORTS:
        raise ConfigError(
            f"MAIL_URL must start with smtp:// or smtps://, got scheme {parts.scheme or '(none)'!r}"
        )
    try:
        port = parts.port or MAIL_PORTS[parts.scheme]
    except ValueError:
        raise ConfigError("MAIL_URL has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigError("MAIL_URL names no host")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - {"starttls"})
    if unknown or parts.path not in ("", "/") or parts.fragment:
        raise ConfigError(f"MAIL_URL may only carry ?starttls=1 after the host, got {unknown}")
    starttls = _flag(query.get("starttls"))
    if starttls and parts.scheme == "smtps":
        raise ConfigError("MAIL_URL: starttls=1 is for smtp://; smtps:// is TLS already")
    security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "plain"
    return MailServer(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def mail_from(raw: str | None, required: bool) -> str:
    """Read MAIL_FROM (`Name <address>` or an address); required in production with MAIL_URL."""
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise ConfigError("MAIL_FROM is not set: it is required with MAIL_URL")
        return DEVELOPMENT_MAIL_FROM
    address = parseaddr(raw)[1]
    if "@" not in address or "\n" in raw or "\r" in raw:
        raise ConfigError(f"MAIL_FROM must read like 'Shop <orders@example.com>', got {raw!r}")
    return raw


def sentry_dsn(raw: str | None) -> str | None:
    """Read SENTRY_DSN (`https://KEY@HOST/PROJECT`, as Sentry shows it); None if unset."""
    raw = (raw or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.username
        or not parts.hostname
        or not parts.path.strip("/")
    ):
        # The DSN names the project and its key: say what is wrong, not what was given.
        raise ConfigError("SENTRY_DSN must read like https://KEY@o0.ingest.sentry.io/PROJECT")
    return raw


def database_url(raw: str | None, instance_path: str) -> str:
    """Normalise a PaaS `DATABASE_URL` for SQLAlchemy with psycopg 3; default to SQLite."""
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "shop.db")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def engine_options(url: str, env: Mapping[str, str]) -> dict[str, Any]:
    """Connection pool settings for SQLAlchemy, suited to a PaaS database.

    Each gunicorn sync worker serves one request at a time, so a small pool per worker is
    plenty. Connections the server dropped (restarts, failover, idle timeouts) are replaced
    before a request gets one by `shop.connections`, which reads the socket instead of
    pinging (`pool_pre_ping` would cost a round trip on every request).
    """
    options: dict[str, Any] = {
        "pool_size": _int(env, "DB_POOL_SIZE"),
        "max_overflow": _int(env, "DB_MAX_OVERFLOW"),
        "pool_timeout": _int(env, "DB_POOL_TIMEOUT"),
    }
    if url in ("sqlite://", "sqlite:///:memory:"):
        return {}  # one in-memory database, one shared connection: there is no pool to size
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": _int(env, "DB_CONNECT_TIMEOUT")}
        # BEGIN travels with each transaction's first statement (`shop.connections`).
        options["execution_options"] = {BEGIN_WITH_FIRST_STATEMENT: True}
    elif url.startswith("sqlite"):
        # Wait this long for another writer instead of failing with "database is locked".
        options["connect_args"] = {"timeout": 15}
    return options


def shop_time_zone(raw: str | None) -> str:
    """SHOP_TIME_ZONE: an IANA zone name the zone database knows (the default when unset)."""
    value = (raw or "").strip() or settings.default("SHOP_TIME_ZONE")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SHOP_TIME_ZONE must be a time zone name such as Europe/Berlin, got {value!r}"
        ) from None
    return value


def shop_currencies(raw: str | None) -> tuple[str, ...]:
    """SHOP_CURRENCIES: distinct three-letter codes, lower case, the default first."""
    try:
        return currencies.parse(settings.default("SHOP_CURRENCIES") if raw is None else raw)
    except ValueError as error:
        raise ConfigError(f"SHOP_CURRENCIES: {error}") from None


def support_email(raw: str | None) -> str:
    """SUPPORT_EMAIL: one address with an `@` (the default when unset)."""
    value = (raw or "").strip() or settings.default("SUPPORT_EMAIL")
    if parseaddr(value)[1] != value or "@" not in value:
        raise ConfigError(f"SUPPORT_EMAIL must be one email address, got {value!r}")
    return value


def _shipping(env: Mapping[str, str]) -> dict[str, Any]:
    """SHIP_TO_COUNTRIES, SHIPPING_RATES and FREE_SHIPPING_OVER, read and checked."""

    def raw(name: str, value: str | None) -> str:
        return settings.default(name) if value is None else value  # "" is kept: none

    try:
        return {
            "SHIP_TO_COUNTRIES": shipping.countries(
                raw("SHIP_TO_COUNTRIES", env.get("SHIP_TO_COUNTRIES"))
            ),
            "SHIPPING_RATES": shipping.rates(raw("SHIPPING_RATES", env.get("SHIPPING_RATES"))),
            "FREE_SHIPPING_OVER": shipping.free_over(
                raw("FREE_SHIPPING_OVER", env.get("FREE_SHIPPING_OVER"))
            ),
        }
    except shipping.ShippingSettingError as error:
        raise ConfigError(str(error)) from None


def _tax(env: Mapping[str, str], emulator: bool) -> dict[str, Any]:
    """TAX_RATE (a percentage, or unset: no tax), TAX_NAME, TAX_INCLUSIVE and
    STRIPE_AUTOMATIC_TAX, read and checked."""
    raw_rate = env.get("TAX_RATE", "").strip()
    rate = None
    if raw_rate:
        try:
            rate = Decimal(raw_rate)
        except InvalidOperation:
            rate = None
        if (
            rate is None
            or not rate.is_finite()
            or not 0 <= rate <= 100
            or (rate.as_tuple().exponent < -4)
        ):
            raise ConfigError(f"TAX_RATE must be a percentage from 0 to 100, got {raw_rate!r}")
    name = env.get("TAX_NAME", "").strip() or settings.default("TAX_NAME")
    if len(name) > 50:
        raise ConfigError(f"TAX_NAME must be at most 50 characters, got {len(name)}")
    raw = {
        "TAX_INCLUSIVE": env.get("TAX_INCLUSIVE", ""),
        "STRIPE_AUTOMATIC_TAX": env.get("STRIPE_AUTOMATIC_TAX", ""),
    }
    flags = {}
    for key, given in raw.items():
        value = given.strip() or settings.default(key)
        if value not in ("0", "1"):
            raise ConfigError(f"{key} must be 1 or 0, got {value!r}")
        flags[key] = value == "1"
    if flags["STRIPE_AUTOMATIC_TAX"] and emulator:
        raise ConfigError(
            "STRIPE_AUTOMATIC_TAX=1 needs STRIPE_SECRET_KEY: the emulator has no tax tables "
            "(set TAX_RATE instead)"
        )
    if flags["STRIPE_AUTOMATIC_TAX"] and rate is not None:
        raise ConfigError("Set TAX_RATE or STRIPE_AUTOMATIC_TAX=1, not both")
    return {"TAX_RATE": rate, "TAX_NAME": name, **flags}


def _development_secret(instance_path: str) -> str:
    """Create a random secret once under instance/ so logins survive restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def load_config(
    env: Mapping[str, str], instance_path: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from `env` plus test overrides, failing fast in production."""
    overrides = dict(overrides or {})
    testing = bool(overrides.get("TESTING", False))
    debug = _flag(env.get("FLASK_DEBUG"))
    production = not (debug or testing)

    secret_key = overrides.get("SECRET_KEY") or env.get("SECRET_KEY", "").strip()
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY is not set: production needs a long random secret")
        secret_key = _development_secret(instance_path)

    stripe_key = env.get("STRIPE_SECRET_KEY", "").strip()
    webhook_secret = env.get("STRIPE_WEBHOOK_SECRET", "").strip()
    emulator = not stripe_key
    if stripe_key and not webhook_secret:
        raise ConfigError("STRIPE_WEBHOOK_SECRET is not set: it is required with STRIPE_SECRET_KEY")
    if production and emulator and not _flag(env.get("STRIPE_EMULATOR")):
        raise ConfigError(
            "STRIPE_SECRET_KEY is not set: set it, or STRIPE_EMULATOR=1 for a demo without Stripe"
        )

    cart_max = _int(env, "CART_MAX_QUANTITY")
    if cart_max > CART_MAX_QUANTITY_LIMIT:
        raise ConfigError(
            f"CART_MAX_QUANTITY must be at most {CART_MAX_QUANTITY_LIMIT}, got {cart_max}"
        )

    ttl = _int(env, "CHECKOUT_SESSION_TTL_MINUTES")
    if ttl > CHECKOUT_SESSION_TTL_LIMIT:
        raise ConfigError(
            f"CHECKOUT_SESSION_TTL_MINUTES must be at most {CHECKOUT_SESSION_TTL_LIMIT} (Stripe), "
            f"got {ttl}"
        )

    db_url = database_url(env.get("DATABASE_URL"), instance_path)
    level = log_level(env)  # named before the settings below, as it was checked first
    mail = mail_server(env.get("MAIL_URL"))
    mail_timeout = _int(env, "MAIL_TIMEOUT")
    # A send is a handful of round trips (connect, EHLO, TLS and login, envelope, data), each
    # bounded by MAIL_TIMEOUT; a claim shorter than that could expire under a live send.
    mail_claim = _int(env, "MAIL_CLAIM_SECONDS", minimum=5 * mail_timeout)
    public = public_url(overrides.get("PUBLIC_URL") or env.get("PUBLIC_URL"), production)
    config: dict[str, Any] = {
        "SECRET_KEY": secret_key,
        "PRODUCTION": production,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(
            overrides.get("SQLALCHEMY_DATABASE_URI", db_url), env
        ),
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_WEBHOOK_SECRET": stripe_webhook_secret(env, production, emulator),
        "STRIPE_EMULATOR": emulator,
        "STRIPE_EMULATOR_WEBHOOKS": _emulator_webhooks(env),
        "STRIPE_EMULATOR_API_KEY": _emulator_api_key(env, production),
        **_tax(env, emulator),
        "CHECKOUT_SESSION_TTL_MINUTES": ttl,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # Remember-me lasts 30 days; the user loader also refuses older logins (the
        # browser could keep a cookie longer than it was told).
        "REMEMBER_COOKIE_DURATION": LOGIN_MAX_AGE,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "PASSWORD_HASH_METHOD": "scrypt",
        # New passwords are also checked against known breaches (fails open when away).
        "PWNED_PASSWORDS": _flag(env.get("PWNED_PASSWORDS")),
        "PWNED_PASSWORDS_API": PWNED_PASSWORDS_API,
        "LOG_LEVEL": level,
        # Every absolute url is built from PUBLIC_URL; once it is set, requests naming another
        # host get 400 (shop.urls; not Flask's own TRUSTED_HOSTS, whose refusal cannot render
        # our error page). Unset (development, tests): urls follow each request's host, and
        # links sent with no request at hand (emails) point at the local server.
        "PUBLIC_URL": public
        or f"http://127.0.0.1:{env.get('PORT', '').strip() or settings.default('PORT')}",
        "ALLOWED_HOSTS": trusted_hosts(env.get("TRUSTED_HOSTS"), public),
        # url_for(_external=True), in a request or not, names the public host (Flask 3.1
        # still routes requests for the other allowed hosts).
        "SERVER_NAME": urlsplit(public).netloc if public else None,
        # Production sits behind the PaaS router: trust its X-Forwarded-* headers (as many
        # hops as FORWARDED_ALLOW_HOPS says), build external urls as https, and pin browsers
        # to https once they have seen it.
        "PROXY_FIX": production,
        "FORWARDED_ALLOW_HOPS": _int(env, "FORWARDED_ALLOW_HOPS"),
        "PREFERRED_URL_SCHEME": urlsplit(public).scheme if public else "http",
        "HSTS_SECONDS": HSTS_SECONDS if production else 0,
        # Hashed, compressed copies of static/ served with a one-year cache; None serves
        # static/ as it is, uncached, so edits show up at once under `make run`.
        "STATIC_BUILD_DIR": str(Path(instance_path) / "static-build") if production else None,
        "CART_MAX_QUANTITY": cart_max,
        # What the shop sells in (shop/currencies.py): the first is a new visitor's.
        "SHOP_CURRENCIES": shop_currencies(env.get("SHOP_CURRENCIES")),
        # Shipping (shop/shipping.py): where to, the rates, and when the cheapest is free.
        **_shipping(env),
        # Contact: every page's footer and every email's end.
        "SUPPORT_EMAIL": support_email(env.get("SUPPORT_EMAIL")),
        "SHOP_TIME_ZONE": shop_time_zone(env.get("SHOP_TIME_ZONE")),
        "SHOP_ADDRESS": " ".join(
            (env.get("SHOP_ADDRESS") or settings.default("SHOP_ADDRESS")).split()
        ),
        # Notifications: the outbox worker (shop/notifications). No MAIL_URL: .eml files in
        # instance/mail/ (development).
        "MAIL_SERVER": mail,
        "MAIL_FROM": mail_from(env.get("MAIL_FROM"), required=production and mail is not None),
        "MAIL_DIRECTORY": str(Path(instance_path) / "mail"),
        "MAIL_TIMEOUT": mail_timeout,
        "MAIL_CLAIM_SECONDS": mail_claim,
        "MAIL_MAX_ATTEMPTS": _int(env, "MAIL_MAX_ATTEMPTS"),
        "MAIL_RETRY_SECONDS": _int(env, "MAIL_RETRY_SECONDS"),
        "MAIL_POLL_SECONDS": _int(env, "MAIL_POLL_SECONDS"),
        # Operations: GET /metrics answers only the bearer of this token (404 without one);
        # errors go to Sentry only with a DSN (shop/error_reporting.py).
        "METRICS_TOKEN": env.get("METRICS_TOKEN", "").strip() or None,
        "SENTRY_DSN": sentry_dsn(env.get("SENTRY_DSN")),
        # Flask-Limiter. Every key is set so that one app's choice never leaks into the next
        # app built in the same process (the extension object is shared, as in the tests).
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": ratelimit_storage(env),
        "RATELIMIT_STRATEGY": "moving-window",  # "10 a minute" means any 60 s, not per clock minute
        "RATELIMIT_KEY_PREFIX": "shop",
        "RATELIMIT_HEADERS_ENABLED": False,  # Retry-After is set by our 429 answer
        # A Redis outage must not take logins down: count in memory until it is back.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        **{name: _rate_limit(env, name, default) for name, default in RATE_LIMITS.items()},
    }
    config.update(overrides)
    return config
