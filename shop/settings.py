"""Every setting the shop reads from the environment, declared once: name, parser, default, doc.

`shop/config.py` reads the environment with these defaults (and the ranges of whole
numbers, and the list of rate limits); the settings table of `docs/configuration.md` and
`.env.example` are generated from this table, and `tests/test_settings.py` fails when
either differs from what it would generate, or when code reads a variable not listed here.

Adding a setting is one entry here plus the line of `load_config` that puts it in the
Flask config (a new `*_RATE_LIMIT` needs no line: `load_config` reads every setting whose
parser is `RATE_LIMIT`). Then regenerate and commit the three files:

    make settings          # rewrites .env.example and docs/configuration.md
    make settings-check    # exit 1 if either is out of date (tests/test_settings.py checks too)
"""

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
CONFIGURATION_DOC = ROOT / "docs" / "configuration.md"


@dataclass(frozen=True)
class Whole:
    """A whole-number setting from `minimum` (to `maximum`): anything else stops start-up."""

    minimum: int
    maximum: int | None = None

    def __str__(self) -> str:
        if self.maximum is None:
            return f"whole number ≥ {self.minimum}"
        return f"whole number, {self.minimum} to {self.maximum}"


#: Parsers that are not whole numbers, as the docs name them (the reading is in config.py).
TEXT = "text"
SECRET = "secret text"
FLAG = "flag (`1`/`true`/`yes`/`on`)"
ONE_OR_ZERO = "`1` or `0`"
URL = "URL"
ORIGIN = "origin (`https://host[:port]`)"
HOSTS = "host names, comma-separated"
LEVEL = "`DEBUG`, `INFO`, `WARNING` or `ERROR`"
COUNTRIES = "country codes (ISO 3166-1 alpha-2), comma-separated"
RATES = "`name:amount:currency:days`, comma-separated"
THRESHOLDS = "`amount:currency`, comma-separated"
CURRENCIES = "ISO 4217 codes, comma-separated"
PERCENT = "percentage (`20`, `7.7`), 0 to 100"
#: Flask-Limiter notation (`10 per minute`, several joined by `;`); config.py reads every
#: setting with this parser as a rate limit.
RATE_LIMIT = "rate limit"


@dataclass(frozen=True)
class Setting:
    """One environment variable: how it is read, its default and what it does."""

    name: str
    parser: Whole | str
    #: The value `.env.example` shows and the shop uses when unset ("" = unset).
    default: str
    #: What it does, in Markdown (one paragraph).
    doc: str
    #: What "unset" means when it is not simply `default` (Markdown), for the docs.
    unset: str = ""
    #: False for a variable to leave unset: `.env.example` mentions it only in a comment.
    example: bool = True


@dataclass(frozen=True)
class Section:
    """Settings that belong together, with a note on what they share."""

    title: str
    note: str
    settings: tuple[Setting, ...]


SECTIONS = (
    Section(
        "Essentials",
        "",
        (
            Setting(
                "SECRET_KEY",
                SECRET,
                "",
                "Signs sessions and CSRF tokens; **required in production** (any long random "
                'string, e.g. `python -c "import secrets; print(secrets.token_hex(32))"`).',
                unset="generated once into `instance/secret_key` in development",
            ),
            Setting(
                "FLASK_DEBUG",
                FLAG,
                "0",
                "Development mode (reloader, debugger, no `SECRET_KEY`/Stripe requirement); "
                "anything else is production. `make run` sets `1`.",
            ),
            Setting(
                "PUBLIC_URL",
                ORIGIN,
                "",
                "The shop's address, an origin such as `https://shop.example.com`; **required "
                "in production**: every absolute url (Stripe's return urls, links in emails) is "
                "built from it, and requests naming another host get `400`.",
                unset="development: the address each request names (links in emails: "
                "`http://127.0.0.1:$PORT`)",
            ),
            Setting(
                "TRUSTED_HOSTS",
                HOSTS,
                "",
                "Other host names served too (e.g. `www.shop.example.com`); urls still name "
                "`PUBLIC_URL`.",
                unset="none",
            ),
            Setting(
                "PORT",
                Whole(1),
                "5000",
                "Port of `make run` and of the Procfile's web process (set by the PaaS).",
            ),
            Setting(
                "WEB_CONCURRENCY",
                Whole(1),
                "2",
                "Gunicorn workers of the web process (Heroku sets it from the dyno size).",
            ),
            Setting(
                "FORWARDED_ALLOW_HOPS",
                Whole(0),
                "1",
                "Proxies in front of the web process whose `X-Forwarded-*` headers are "
                "trusted in production: `1` behind one router (Heroku, Render, Dokku's nginx), "
                "`2` with a CDN in front of it, `0` when clients reach gunicorn directly (a "
                "forged `X-Forwarded-For` then changes nothing). See docs/deploy.md.",
            ),
            Setting(
                "LOG_LEVEL",
                LEVEL,
                "INFO",
                "Least important log lines written: `DEBUG`, `INFO` (one line per request), "
                "`WARNING`, `ERROR`.",
            ),
            Setting(
                "FLASK_SKIP_DOTENV",
                FLAG,
                "0",
                "`1` ignores `.env` (as the `flask` command does); the tests and PaaS checks "
                "use it.",
            ),
        ),
    ),
    Section(
        "Database",
        "Keep dynos × `WEB_CONCURRENCY` × (`DB_POOL_SIZE` + `DB_MAX_OVERFLOW`) under the "
        "database plan's connection limit.",
        (
            Setting(
                "DATABASE_URL",
                URL,
                "",
                "SQLAlchemy URL; `postgres://…` as PaaS hand it out is accepted (psycopg 3).",
                unset="SQLite in `instance/shop.db`",
            ),
            Setting("DB_POOL_SIZE", Whole(1), "5", "Database connections each worker keeps open."),
            Setting(
                "DB_MAX_OVERFLOW",
                Whole(0),
                "10",
                "Extra connections a worker may open when its pool is busy.",
            ),
            Setting(
                "DB_POOL_TIMEOUT",
                Whole(1),
                "10",
                "Seconds a request waits for a free pooled connection before a `503`.",
            ),
            Setting(
                "DB_CONNECT_TIMEOUT",
                Whole(1),
                "5",
                "Seconds to wait for PostgreSQL to accept a connection before a `503` (libpq "
                "waits at least 2): bounds how long a request hangs when the database does "
                "not answer.",
            ),
        ),
    ),
    Section(
        "Stripe",
        "Without `STRIPE_SECRET_KEY` the shop talks to the built-in Stripe emulator "
        "([stripe.md](stripe.md)).",
        (
            Setting(
                "STRIPE_SECRET_KEY",
                SECRET,
                "",
                "Stripe API key, test (`sk_test_…`) or live (`sk_live_…`).",
                unset="the Stripe emulator",
            ),
            Setting(
                "STRIPE_WEBHOOK_SECRET",
                SECRET,
                "",
                "Webhook signing secret (`whsec_…`); **required with `STRIPE_SECRET_KEY`**; "
                "production never accepts the published development one.",
                unset="development: a fixed, published secret in emulator mode; production "
                "demo: generated once per installation and kept in the database",
            ),
            Setting(
                "STRIPE_EMULATOR",
                FLAG,
                "0",
                "`1` lets production run on the emulator (a demo); without it, production "
                "without a Stripe key refuses to start. Never active with a real key.",
            ),
            Setting(
                "STRIPE_EMULATOR_WEBHOOKS",
                ONE_OR_ZERO,
                "1",
                "`0`: the emulator records events (`GET /v1/events` lists them) but never "
                "delivers them, like a misconfigured endpoint, for trying `flask payments "
                "reconcile`; `flask emulator resend EVENT_ID` still delivers.",
            ),
            Setting(
                "STRIPE_EMULATOR_API_KEY",
                SECRET,
                "",
                "The only key the emulator's HTTP API (`/emulator/stripe/v1/...`) takes in "
                "production (unset there: that API is `404`); the published `sk_test_emulator` "
                "is refused there, at start-up. Outside production `sk_test_emulator` works, "
                "and this key too when set.",
                unset="unset",
            ),
            Setting(
                "CHECKOUT_SESSION_TTL_MINUTES",
                Whole(30, 24 * 60),
                "30",
                "Minutes a Stripe Checkout Session stays open (Stripe allows 30 to 1440); its "
                "order's stock is held that long.",
            ),
        ),
    ),
    Section(
        "Cart",
        "",
        (
            Setting(
                "SHOP_CURRENCIES",
                CURRENCIES,
                "usd,eur",
                "The currencies the shop sells in; the first is a new visitor's. Each product "
                "has its own price in each (the seed file's `prices`): no exchange rate is "
                "applied. Customers switch in the header.",
            ),
            Setting(
                "CART_MAX_QUANTITY",
                Whole(1, 9999),
                "10",
                "Most units of one product per cart line; adds past it are capped at it.",
            ),
        ),
    ),
    Section(
        "Shipping",
        "Stripe's page collects the address and offers the rates in the order's currency "
        "([running-the-shop.md](running-the-shop.md#shipping)).",
        (
            Setting(
                "SHIP_TO_COUNTRIES",
                COUNTRIES,
                "US,DE,FR,NL,GB",
                "Where the shop ships: Stripe's page accepts an address in these countries only.",
            ),
            Setting(
                "SHIPPING_RATES",
                RATES,
                "standard:4.90:usd:3-5,express:12.00:usd:1-2,"
                "standard:4.90:eur:3-5,express:12.00:eur:1-2",
                "The ways to ship, each priced in one currency, with its delivery time in "
                "business days (`3-5` or `2`); at most five per currency. An order is offered "
                "the rates of its currency.",
                unset="no shipping options: the address is collected, shipping is free",
            ),
            Setting(
                "FREE_SHIPPING_OVER",
                THRESHOLDS,
                "50.00:eur,60.00:usd",
                "From this subtotal on, the cheapest rate of that currency costs nothing.",
                unset="shipping is never free",
            ),
        ),
    ),
    Section(
        "Tax",
        "One rate on every line, made once per installation as a Stripe Tax Rate "
        "([running-the-shop.md](running-the-shop.md#codes-discounts-and-tax)).",
        (
            Setting(
                "TAX_RATE",
                PERCENT,
                "",
                "The tax rate in percent (e.g. `20` for 20% VAT).",
                unset="no tax line",
            ),
            Setting(
                "TAX_NAME",
                TEXT,
                "VAT",
                "What receipts and Stripe's page call the tax (at most 50 characters).",
            ),
            Setting(
                "TAX_INCLUSIVE",
                ONE_OR_ZERO,
                "1",
                "`1`: prices include the tax (as in Europe); `0`: it is added at checkout.",
            ),
            Setting(
                "STRIPE_AUTOMATIC_TAX",
                ONE_OR_ZERO,
                "0",
                "`1` (with `STRIPE_SECRET_KEY` only): Stripe Tax works the tax out instead of "
                "`TAX_RATE`; the emulator has no tax tables and refuses it at start-up.",
            ),
        ),
    ),
    Section(
        "Contact",
        "Shown in every page's footer and at the end of every email.",
        (
            Setting(
                "SUPPORT_EMAIL",
                TEXT,
                "help@northside.example",
                "Where customers write about orders, shipping and returns (an address with `@`).",
            ),
            Setting(
                "SHOP_ADDRESS",
                TEXT,
                "Northside Roastery, 12 Harbour Lane, Portland, OR 97201, United States",
                "The shop's postal address, on one line.",
            ),
            Setting(
                "SHOP_TIME_ZONE",
                TEXT,
                "America/Los_Angeles",
                "The shop's time zone (an IANA name): pages and emails give times in it, named; "
                "with JavaScript a customer's own zone replaces it.",
            ),
        ),
    ),
    Section(
        "Abuse limits",
        "Each limit reads like `10 per minute` (`N per second|minute|hour|day`, several joined "
        "by `;`), as Flask-Limiter reads it; a value it cannot read stops start-up naming the "
        "variable. Failed logins only count: successful logins do not.",
        (
            Setting(
                "REDIS_URL",
                URL,
                "",
                "A Redis, as PaaS add-ons set it: the abuse-limit counters live there (every "
                "worker shares them) when `RATELIMIT_STORAGE_URI` is unset.",
                unset="unset",
            ),
            Setting(
                "RATELIMIT_STORAGE_URI",
                URL,
                "",
                "Where abuse-limit counters live: `memory://` or a `redis://host:6379/0` URL "
                "(every worker shares it). The web process with more than one worker refuses "
                "per-process counters unless this says `memory://` explicitly.",
                unset="`REDIS_URL`, else `memory://` (counts per process)",
            ),
            Setting(
                "LOGIN_ACCOUNT_RATE_LIMIT",
                RATE_LIMIT,
                "10 per minute",
                "Failed logins per account from browsers that never signed in to it.",
            ),
            Setting(
                "LOGIN_ACCOUNT_CEILING",
                RATE_LIMIT,
                "100 per day",
                "The slower ceiling on the same failures: what bounds guessing.",
            ),
            Setting(
                "LOGIN_DEVICE_RATE_LIMIT",
                RATE_LIMIT,
                "10 per minute",
                "Failed logins from one browser that has signed in to the account before (its "
                "own budget: strangers cannot lock the owner out).",
            ),
            Setting(
                "LOGIN_IP_RATE_LIMIT",
                RATE_LIMIT,
                "100 per minute",
                "Failed logins per client address (browsers known to the account aside).",
            ),
            Setting(
                "PASSWORD_RESET_EMAIL_RATE_LIMIT",
                RATE_LIMIT,
                "5 per hour",
                "Password reset links asked for one email address.",
            ),
            Setting(
                "PASSWORD_RESET_IP_RATE_LIMIT",
                RATE_LIMIT,
                "30 per hour",
                "Reset requests and reset-link uses per client address.",
            ),
            Setting(
                "REGISTER_IP_RATE_LIMIT",
                RATE_LIMIT,
                "60 per minute;1000 per day",
                "Registration attempts per client address.",
            ),
            Setting(
                "REGISTER_EMAIL_RATE_LIMIT",
                RATE_LIMIT,
                "5 per hour",
                "Registration attempts per email address.",
            ),
            Setting(
                "CHECKOUT_RATE_LIMIT",
                RATE_LIMIT,
                "120 per minute",
                "Checkout attempts per signed-in user.",
            ),
            Setting(
                "ADMIN_RATE_LIMIT",
                RATE_LIMIT,
                "60 per minute",
                "Admin actions (every `POST` under `/admin`) per signed-in admin; reading admin "
                "pages is not limited.",
            ),
            Setting(
                "API_TOKEN_RATE_LIMIT",
                RATE_LIMIT,
                "600 per minute",
                "JSON API requests per personal access token (fixed windows); over it, a "
                "`429` with `Retry-After`.",
            ),
            Setting(
                "API_IP_RATE_LIMIT",
                RATE_LIMIT,
                "1200 per minute",
                "JSON API requests per client address, with or without a token (fixed windows).",
            ),
            Setting(
                "EXPORT_RATE_LIMIT",
                RATE_LIMIT,
                "10 per hour",
                "Orders exports (`GET /admin/orders.csv`) per signed-in admin, the one limited "
                "admin read: it takes every order away.",
            ),
        ),
    ),
    Section(
        "Passwords",
        "",
        (
            Setting(
                "PWNED_PASSWORDS",
                FLAG,
                "0",
                "`1` also refuses new passwords found in known breaches (Have I Been Pwned's "
                "range API, k-anonymity: only 5 hex digits of the password's SHA-1 are sent); "
                "when it cannot be reached the password is accepted on the offline rule and "
                "a warning is logged.",
            ),
        ),
    ),
    Section(
        "Email",
        "Sent by `flask worker`, the Procfile's worker process ([operations.md](operations.md)).",
        (
            Setting(
                "MAIL_URL",
                URL,
                "",
                "SMTP server of the email worker: `smtp://user:pass@host:port` (port 25 by "
                "default), `smtp://…:587?starttls=1` (upgrade to TLS), `smtps://…` (TLS from "
                "the start, port 465); percent-encode `@ : /` in the user or password; "
                "**required by the worker in production**.",
                unset="messages become `.eml` files in `instance/mail/` (and are logged)",
            ),
            Setting(
                "MAIL_FROM",
                TEXT,
                "",
                "Sender of every email, `Name <address>`; **required with `MAIL_URL` in "
                "production**.",
                unset="`Northside Roastery <orders@northside.example>` in development "
                "(`.example` is reserved: it never reaches anyone)",
            ),
            Setting(
                "MAIL_MAX_ATTEMPTS",
                Whole(1),
                "12",
                "Tries per message before it is marked failed (and noted on its order's "
                "timeline); 12 covers about five hours of outage.",
            ),
            Setting(
                "MAIL_RETRY_SECONDS",
                Whole(1),
                "30",
                "Wait after the first failed try; it doubles after each one, up to an hour.",
            ),
            Setting(
                "MAIL_POLL_SECONDS",
                Whole(1),
                "2",
                "How often an idle worker looks for new messages, in seconds.",
            ),
            Setting(
                "MAIL_TIMEOUT",
                Whole(1),
                "20",
                "Seconds the worker waits on the SMTP server for each step (keep it under the "
                "platform's 30 s stop timeout).",
            ),
            Setting(
                "MAIL_CLAIM_SECONDS",
                "whole number ≥ 5 × `MAIL_TIMEOUT`",
                "300",
                "How long a worker's claim on a message lasts; a message whose worker died is "
                "retried after it.",
            ),
        ),
    ),
    Section(
        "Operations",
        "[operations.md](operations.md#metrics-alerts-error-reports) says what each gives.",
        (
            Setting(
                "METRICS_TOKEN",
                SECRET,
                "",
                "The bearer token Prometheus sends to read `GET /metrics`; a long random string.",
                unset="`/metrics` is `404`",
            ),
            Setting(
                "SENTRY_DSN",
                URL,
                "",
                "A Sentry project's DSN (`https://KEY@o0.ingest.sentry.io/PROJECT`): errors are "
                "reported there, without personal data.",
                unset="no error reports, `sentry-sdk` not loaded",
            ),
            Setting(
                "PROMETHEUS_MULTIPROC_DIR",
                TEXT,
                "",
                "Where the gunicorn workers keep their metrics to be summed; if you set it, it "
                "is emptied at each start. Leave it unset (even empty, it would switch every "
                "process to multiprocess mode).",
                unset="a fresh temporary directory per start of the web process "
                "(`gunicorn.conf.py`)",
                example=False,
            ),
        ),
    ),
)

#: Every setting by name, in the order of the docs.
SETTINGS = {setting.name: setting for section in SECTIONS for setting in section.settings}


def default(name: str) -> str:
    """The default of setting `name` as text ("" = unset); a KeyError names an undeclared one."""
    return SETTINGS[name].default


def whole_default(name: str) -> int:
    """The default of the whole-number setting `name`."""
    return int(SETTINGS[name].default)


def minimum(name: str) -> int:
    """The smallest value the whole-number setting `name` accepts."""
    parser = SETTINGS[name].parser
    assert isinstance(parser, Whole), f"{name} is not read as a whole number"
    return parser.minimum


def rate_limits() -> dict[str, str]:
    """Every abuse limit and its default, in declaration order."""
    return {s.name: s.default for s in SETTINGS.values() if s.parser == RATE_LIMIT}


def _plain(markdown: str) -> str:
    """Markdown as a comment reads it: no backticks, bold or link targets."""
    text = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\1 (docs/\2)", markdown)
    return text.replace("`", "").replace("**", "").replace("docs/docs/", "docs/")


def _comment(text: str) -> list[str]:
    """`text` as wrapped `# ` comment lines."""
    return [f"# {line}" for line in textwrap.wrap(_plain(text), 90)]


def env_example() -> str:
    """The text of `.env.example`."""
    lines = [
        "# Copy to .env for local settings; `make run` needs none of them.",
        "# Every variable the shop reads is listed here, with its default. Generated from",
        "# shop/settings.py by `make settings`: edit there, not here.",
    ]
    for section in SECTIONS:
        lines += ["", f"# --- {section.title} ---"]
        if section.note:
            lines += _comment(section.note)
        for setting in section.settings:
            lines += [""] if len(section.settings) > 1 or section.note else []
            doc = setting.doc
            if setting.unset:
                doc += f" Unset: {setting.unset}."
            lines += _comment(doc)
            if setting.example:
                lines.append(f"{setting.name}={setting.default}")
            else:
                lines.append(f"# {setting.name}= (leave unset)")
    return "\n".join(lines) + "\n"


#: The markers around the generated table in docs/configuration.md.
BEGIN = "<!-- settings: generated from shop/settings.py by `make settings` -->"
END = "<!-- end of settings -->"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def settings_table() -> str:
    """The Markdown of the settings, one table per section."""
    lines = [BEGIN]
    for section in SECTIONS:
        lines += ["", f"### {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        lines += ["| variable | read as | default | meaning |", "|---|---|---|---|"]
        for s in section.settings:
            shown = s.unset or (f"`{s.default}`" if s.default else "unset")
            if s.unset and s.default:
                shown = f"`{s.default}`; unset: {s.unset}"
            lines.append(
                f"| `{s.name}` | {_cell(str(s.parser))} | {_cell(shown)} | {_cell(s.doc)} |"
            )
    lines += ["", END]
    return "\n".join(lines)


def configuration_doc(current: str) -> str:
    """`current` (docs/configuration.md) with its generated table replaced by the table now."""
    start, end = current.index(BEGIN), current.index(END) + len(END)
    return current[:start] + settings_table() + current[end:]


def main(argv: list[str]) -> int:
    """Rewrite .env.example and docs/configuration.md, or with --check say which is stale."""
    wanted = {
        ENV_EXAMPLE: env_example(),
        CONFIGURATION_DOC: configuration_doc(CONFIGURATION_DOC.read_text()),
    }
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run make settings")
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
