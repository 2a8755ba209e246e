"""Sale-day customers, for Locust (`locust -f bench/rehearsal/customers.py --headless`).

`python -m bench.rehearsal` runs this in a Locust process of its own (gevent patches the
whole process; the rehearsal's SMTP sink and fault injection stay outside it), with the
addresses of both dynos and where to write the results in the environment. Each pass of a
simulated user is a new customer going through the whole purchase as a browser would:

    register -> search -> open a product -> add 1 to 3 lines -> change one -> check out
    -> open Stripe's page -> pay (declined 1 run in 20; half of those retry with a good
    card) or abandon (1 in 10: Stripe expires the session, as it would after 30 minutes)
    -> back to the shop (success page) -> My Orders

with this wave's choices along the way: some switch to euros first, some buy the product
they opened at once ("Buy now", their cart left alone), some type the sale's limited code
(REHEARSAL_CODE, its uses shared by every customer: once they run out the cart or Stripe's
page says so and the customer removes it and pays full price). Beside them, a few scripts
(`ApiClient`) buy through the JSON API with a token and idempotency keys, sending each
request twice with the same key: the second answer must be the first, byte for byte.

A small round-robin spreads every request over the two dynos, as the PaaS router would;
it speaks as the router does (the public Host, `X-Forwarded-Proto: https`, the same-origin
Referer CSRF checks over https) and keeps the customer's cookies itself, since they are
`Secure` and this hop is plain http. A request that finds its dyno gone (connection
refused or cut: the rehearsal's SIGKILL) or answers 5xx is tried again on the next dyno,
as a customer pressing the button again; every such try is counted by cause.
"""

import itertools
import json
import os
import random
import re
import secrets
import time
from collections import Counter

import gevent
from locust import FastHttpUser, LoadTestShape, events, task

BACKENDS = [url for url in os.environ.get("REHEARSAL_BACKENDS", "").split(",") if url]
PUBLIC_HOST = os.environ.get("REHEARSAL_PUBLIC_HOST", "127.0.0.1")
API_KEY = os.environ.get("REHEARSAL_API_KEY", "")
RESULTS = os.environ.get("REHEARSAL_RESULTS", "")
#: Seconds a customer reads between two steps (uniform in this range).
THINK = tuple(float(x) for x in os.environ.get("REHEARSAL_THINK", "2,6").split(","))
#: How long the load runs; customers at once (unset: found by SaleDay, below).
RUN_SECONDS = float(os.environ.get("REHEARSAL_SECONDS", "300"))
FIXED_USERS = int(os.environ.get("REHEARSAL_USERS", "0") or 0)

#: The sale's limited code, made by the rehearsal before the load (empty: none).
SALE_CODE = os.environ.get("REHEARSAL_CODE", "")
#: Shares of customers who switch to euros, buy now, and type the sale's code.
EURO_SHARE, BUY_NOW_SHARE, CODE_SHARE = 0.3, 0.2, 0.4
PAYS, DECLINED = "4242 4242 4242 4242", "4000 0000 0000 0002"
DECLINE_SHARE, RETRY_AFTER_DECLINE, ABANDON_SHARE = 1 / 20, 0.5, 0.10
#: What customers type into the search box (each matches some of the catalogue).
SEARCHES = ["coffee", "250 g", "grinder", "kettle", "mug", "espresso", "filter", "scale", "bag"]
#: Tries of one step when the dyno is gone or answers 5xx, and the pause between them.
CONNECTION_TRIES, SERVER_ERROR_TRIES, PAUSE = 10, 3, 0.5

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CARD = re.compile(
    r'<li class="card" data-sku="([^"]+)"(?: data-available="(-?\d+)")?.*?'
    r'name="product_id" value="(\d+)"',
    re.S,
)
#: A cart line (product id, its markup), and the note of a line sold down to N units.
CART_LINE = re.compile(r'<li class="cart-line[^"]*" data-product-id="(\d+)">(.*?)</li>', re.S)
SHORT = re.compile(r"Only (\d+) left: lower the quantity")

_next_backend = itertools.cycle(range(max(1, len(BACKENDS))))
#: (kind, step, detail) -> count: expected 4xx by cause, 5xx, connection errors, retries.
CAUSES: Counter = Counter()
#: How each customer's run ended.
JOURNEYS: Counter = Counter()
#: API requests sent twice with one idempotency key: "identical" when the second answer
#: (status, Idempotent-Replayed and body) was the first's, else what differed.
REPLAYS: Counter = Counter()
NEW_TOKEN = re.compile(r"data-new-token>([^<]+)<")


class Gone(Exception):
    """A step failed on every try (the run of this customer ends there)."""


class Customer(FastHttpUser):
    """One browser after another, each buying once."""

    host = BACKENDS[0] if BACKENDS else "http://127.0.0.1"
    network_timeout = connection_timeout = 60.0

    def on_start(self) -> None:
        """No cookie jar: the Secure cookies are kept and sent by hand (see module doc)."""
        self.client.client.cookiejar = None
        self.shopping = False

    def on_stop(self) -> None:
        """Stopped by the load easing off (or the end) in the middle of a purchase."""
        if self.shopping:
            JOURNEYS["stopped mid-purchase (the load eased off, or the run ended)"] += 1

    # --- the purchase -------------------------------------------------------------------

    #: What this kind of user's runs are named after in the report ("API: " for scripts).
    kind = ""

    @task
    def purchase(self) -> None:
        """One customer (or script), from registration to My Orders."""
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.bearer = ""  # the API token a script makes (none for a browser)
        self.shopping = True
        try:
            JOURNEYS[self.journey()] += 1
        except Gone as gone:
            JOURNEYS[f"{self.kind}gave up: {gone}"] += 1
        self.shopping = False
        self.think()  # the next customer arrives

    def journey(self) -> str:
        """The steps; returns how the run ended."""
        cards = self.register()
        self.think()
        if random.random() < EURO_SHARE:
            self.step("currency", "POST", "/currency", {"currency": "eur"}, htmx=True)
            cards = _cards(self.step("home", "GET", "/").text)  # priced in euros now
            self.think()
        found = self.search()
        self.think()
        choice = [c for c in (found or cards) if c["available"] != 0] or cards
        opened = random.choice(choice)
        self.step("product", "GET", f"/products/{opened['sku']}", htmx=True)
        self.think()
        if random.random() < BUY_NOW_SHARE:
            answer = self.step("buy now", "POST", f"/products/{opened['sku']}/buy",
                               {"quantity": "1"}, htmx=True, expect={409: "sold out"})  # fmt: skip
            if answer.status_code != 200:
                return "sold out at buy now"
            return self.pay_and_return(_path(answer.headers.get("HX-Redirect") or ""), "bought now")
        lines = self.fill_cart(opened, cards)
        if not lines:
            return "sold out before the cart was filled"
        self.think()
        changed = random.choice(lines)
        self.step(
            "change",
            "POST",
            f"/cart/items/{changed}",
            {"quantity": str(random.randint(1, 3))},
            htmx=True,
            expect={409: "sold out"},
        )
        coded = False
        if SALE_CODE and random.random() < CODE_SHARE:
            self.think()
            applied = self.step("code", "POST", "/cart/promotion", {"code": SALE_CODE},
                                htmx=True, expect={422: "the code is used up"})  # fmt: skip
            coded = applied.status_code == 200
        self.think()
        pay_url = self.checkout()
        if pay_url is None:
            return "sold out at checkout"
        return self.pay_and_return(pay_url, "paid with the code" if coded else "paid")

    def pay_and_return(self, pay_url: str, paid: str) -> str:
        """Stripe's page: pay (or decline, or abandon), back to the shop, My Orders."""
        page = self.step("pay: page", "GET", pay_url)
        token = _match(CSRF_INPUT, page.text, "the pay form's csrf_token")
        session_id = pay_url.rsplit("/", 1)[1]
        self.think()
        if random.random() < ABANDON_SHARE:
            return self.abandon(session_id, "abandoned")
        if random.random() < DECLINE_SHARE:
            self.pay(pay_url, token, DECLINED)
            self.think()
            if random.random() >= RETRY_AFTER_DECLINE:
                return self.abandon(session_id, "declined, abandoned")
            outcome = "declined, then paid"
        else:
            outcome = paid
        if not self.pay(pay_url, token, PAYS):
            # The code ran out between the cart and the payment: nothing was charged; the
            # customer takes the code off and pays full price on a new page.
            self.step("code: remove", "DELETE", "/cart/promotion", htmx=True)
            again = self.checkout()
            if again is None:
                return "sold out at checkout"
            return self.pay_and_return(again, "paid full price: the code ran out at payment")
        self.step("success", "GET", f"/checkout/success?session_id={session_id}")
        self.think()
        self.step("orders", "GET", "/orders", htmx=True)
        return outcome

    def register(self) -> list[dict]:
        """Create the account through the form; the catalogue page it lands on."""
        form = self.step("register: form", "GET", "/register")
        email = f"sale-{secrets.token_hex(6)}@example.com"
        password = secrets.token_urlsafe(15)
        fields = {
            "email": email,
            "password": password,
            "confirm": password,
            "csrf_token": _match(CSRF_INPUT, form.text, "the register form's csrf_token"),
        }
        self.think()
        answer = self.step("register: submit", "POST", "/register", fields, expect={422: ""})
        if answer.status_code == 422 and "already exists" in answer.text:
            # The first try was cut off by the fault after the account was made: log in.
            CAUSES["retried", "register: submit", "account existed: logged in"] += 1
            login = self.step("login: form", "GET", "/login")
            fields = {
                "email": email,
                "password": password,
                "csrf_token": _match(CSRF_INPUT, login.text, "the login form's csrf_token"),
            }
            answer = self.step("login: submit", "POST", "/login", fields)
        if answer.status_code != 302:
            CAUSES["unexpected 4xx", "register: submit", str(answer.status_code)] += 1
            raise Gone(f"register answered {answer.status_code}")
        home = self.step("home", "GET", "/")
        self.token = _match(CSRF_META, home.text, "the page's csrf-token")
        return _cards(home.text)

    def search(self) -> list[dict]:
        """Active search, as the box sends it (the grid fragment)."""
        term = random.choice(SEARCHES)
        return _cards(self.step("search", "GET", f"/?q={term.replace(' ', '+')}", htmx=True).text)

    def fill_cart(self, opened: dict, cards: list[dict]) -> list[int]:
        """Add 1 to 3 lines (the product opened first), 1 to 3 units each; the lines added."""
        wanted = [opened] + random.sample(
            [c for c in cards if c["sku"] != opened["sku"] and c["available"] != 0],
            k=random.randint(0, 2),
        )
        added = []
        for card in wanted:
            answer = self.step(
                "add",
                "POST",
                "/cart/items",
                {"product_id": str(card["id"]), "quantity": str(random.randint(1, 3))},
                htmx=True,
                expect={409: "sold out"},
            )
            if answer.status_code == 200:
                added.append(card["id"])
        return added

    def checkout(self) -> str | None:
        """Start the checkout; the path of Stripe's page, or None when the cart sold out.
        Refused for a line that sold out or down meanwhile, the customer removes or lowers
        it, as the cart says, and tries once more."""
        for attempt in range(2):
            answer = self.step("checkout", "POST", "/checkout", htmx=True,
                               expect={409: "sold out, or the code used up"})  # fmt: skip
            if answer.status_code == 200:
                return _path(answer.headers.get("HX-Redirect") or "")
            if attempt:
                return None
            cart = self.step("cart", "GET", "/cart", htmx=True).text
            if 'id="promotion-problem"' in cart:  # the code ran out: take it off, pay in full
                self.step("code: remove", "DELETE", "/cart/promotion", htmx=True)
            kept = 0
            for product_id, line in CART_LINE.findall(cart):
                left = SHORT.search(line)
                if left:
                    fields = {"quantity": left.group(1)}
                    self.step("cart: lower", "POST", f"/cart/items/{product_id}", fields, htmx=True)
                    kept += 1
                elif "line-unavailable" in line:
                    self.step("cart: remove", "DELETE", f"/cart/items/{product_id}", htmx=True)
                else:
                    kept += 1
            if not kept:
                return None
        return None

    def pay(self, pay_url: str, token: str, card: str) -> bool:
        """Pay on Stripe's page; False when Stripe refused the session's code (it ran out
        meanwhile: nothing charged). A try cut off by the fault may have been charged: the
        next try then finds the session paid (409) and the customer goes back to the
        shop, whose success page records the payment; never a second charge."""
        answer = self.step(
            "pay",
            "POST",
            pay_url,
            {"card_number": card, "csrf_token": token},
            expect={
                402: "declined",
                409: "already paid (a retry after the fault), or the code ran out",
            },
        )
        if answer.status_code == 409 and "promotion code" in answer.text:
            return False
        if card == PAYS and answer.status_code not in (303, 409):
            raise Gone(f"pay answered {answer.status_code}")
        return True

    def abandon(self, session_id: str, outcome: str) -> str:
        """Leave Stripe's page unpaid. Stripe expires such a session after its 30 minutes
        (the shortest it allows) and says so with `checkout.session.expired`; here it is
        expired at once through the emulator's API, and the rehearsal's scheduled
        `flask emulator expire-due` delivers the event."""
        self.think()
        self.step(
            "expire (Stripe)",
            "POST",
            f"/emulator/stripe/v1/checkout/sessions/{session_id}/expire",
            # As Stripe's SDK does: a retry after a cut connection replays the first answer.
            headers={
                "Authorization": f"Bearer {API_KEY}",
                "Idempotency-Key": f"expire-{session_id}",
            },
        )
        self.step("orders", "GET", "/orders", htmx=True)
        return outcome

    # --- one request, as the router and a patient customer make it -------------------

    def step(
        self,
        name: str,
        method: str,
        path: str,
        fields: dict | None = None,
        htmx: bool = False,
        expect: dict[int, str] | None = None,
        headers: dict | None = None,
        json_body: str | None = None,
    ):
        """Send one request to the next dyno, again on the next one if the dyno is gone
        or answers 5xx; the answer. `expect` names the 4xx this step may answer, and why."""
        expect = expect or {}
        sent = {
            "Host": PUBLIC_HOST,
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{PUBLIC_HOST}/",
            "User-Agent": "northside-rehearsal/1",
        }
        if self.cookies and json_body is None and not path.startswith("/api/"):
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            sent["HX-Request"] = "true"
            if method != "GET":
                sent["X-CSRFToken"] = self.token
        if fields is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        body = "&".join(f"{k}={_quote(v)}" for k, v in (fields or {}).items()) or None
        if json_body is not None:
            sent["Content-Type"], body = "application/json", json_body
        connection_errors = server_errors = 0
        while True:
            base = BACKENDS[next(_next_backend)]
            with self.client.request(
                method,
                base + path,
                name=name,
                data=body,
                headers=sent,
                catch_response=True,
                allow_redirects=False,
            ) as answer:
                status = answer.status_code or 0
                if status == 0:
                    connection_errors += 1
                    CAUSES["connection error", name, _error(answer)] += 1
                    answer.failure(f"connection error: {_error(answer)}")
                elif status >= 500:
                    server_errors += 1
                    CAUSES["5xx", name, str(status)] += 1
                    answer.failure(f"{status}")
                elif status >= 400 and status not in expect:
                    CAUSES["unexpected 4xx", name, str(status)] += 1
                    answer.failure(f"unexpected {status}: {answer.text[:200]}")
                else:
                    if status >= 400 and expect[status]:
                        CAUSES["4xx", name, f"{status} {expect[status]}"] += 1
                    answer.success()
                    _keep_cookies(self.cookies, answer)
                    return answer
            if connection_errors >= CONNECTION_TRIES or server_errors >= SERVER_ERROR_TRIES:
                raise Gone(f"{name}: no answer after {connection_errors + server_errors} tries")
            if 400 <= status < 500:
                raise Gone(f"{name} answered {status}")
            CAUSES["retried", name, "after a connection error or 5xx"] += 1
            gevent.sleep(PAUSE)

    def think(self) -> None:
        """A customer reading the page."""
        gevent.sleep(random.uniform(*THINK))


class ApiClient(Customer):
    """A script buying through the JSON API: a customer who made a token on the account
    page, then lists products, adds to the cart and checks out with idempotency keys,
    each request sent twice with its key, and pays on Stripe's page as a browser would."""

    weight = 1
    kind = "API: "

    def journey(self) -> str:
        """Account, token, then the purchase through /api/v1."""
        self.register()
        account = self.step("account", "GET", "/account")
        fields = {
            "name": "sale script",
            "csrf_token": _match(CSRF_INPUT, account.text, "the account page's csrf_token"),
        }
        made = self.step("API: make a token", "POST", "/account/tokens", fields)
        self.bearer = _match(NEW_TOKEN, made.text, "the new token")
        self.think()
        listed = json.loads(self.api("API: products", "GET", "/api/v1/products?limit=100").text)
        choice = [p for p in listed["data"] if p["available"]]
        if not choice:
            return "API: sold out before the cart was filled"
        added = 0
        for product in random.sample(choice, k=min(len(choice), random.randint(1, 2))):
            body = {"sku": product["sku"], "quantity": random.randint(1, 2)}
            answer = self.api_twice(
                "API: add", "POST", "/api/v1/cart/items", body, {409: "sold out"}
            )
            added += answer.status_code == 200
            self.think()
        if not added:
            return "API: sold out before the cart was filled"
        started = self.api_twice("API: checkout", "POST", "/api/v1/checkout", {}, {409: "sold out"})
        if started.status_code not in (200, 201):
            return "API: sold out at checkout"
        pay_url = _path(json.loads(started.text)["url"])
        page = self.step("pay: page", "GET", pay_url)
        token = _match(CSRF_INPUT, page.text, "the pay form's csrf_token")
        self.think()
        self.pay(pay_url, token, PAYS)
        session_id = pay_url.rsplit("/", 1)[1]
        self.step("success", "GET", f"/checkout/success?session_id={session_id}")
        self.api("API: orders", "GET", "/api/v1/orders")
        return "API: paid"

    def api(self, name, method, path, body=None, key=None, expect=None):
        """One JSON API request with the token (and `key` as its Idempotency-Key)."""
        headers = {"Authorization": f"Bearer {self.bearer}", "Accept": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        payload = None if body is None else json.dumps(body)
        return self.step(name, method, path, headers=headers, json_body=payload, expect=expect)

    def api_twice(self, name, method, path, body, expect=None):
        """Send the request, then again with the same key; note whether the replay was the
        first answer exactly. The first answer."""
        key = secrets.token_hex(16)
        first = self.api(name, method, path, body, key, expect)
        second = self.api(f"{name} (replay)", method, path, body, key, expect)
        if (second.status_code, second.content) != (first.status_code, first.content):
            REPLAYS[f"{name}: {first.status_code} then {second.status_code}"] += 1
        elif second.headers.get("Idempotent-Replayed") != "true":
            REPLAYS[f"{name}: not marked Idempotent-Replayed"] += 1
        else:
            REPLAYS["identical"] += 1
        return first


Customer.weight = 9


# --- page reading helpers -------------------------------------------------------------


def _cards(html: str) -> list[dict]:
    """Product cards of a catalogue grid: sku, id and units left (-1: not tracked)."""
    return [
        {"sku": sku, "id": int(pid), "available": int(left) if left else -1}
        for sku, left, pid in CARD.findall(html)
    ]


def _match(pattern: re.Pattern, html: str, what: str) -> str:
    """The first group of `pattern` in `html`, or the customer gives up."""
    found = pattern.search(html)
    if not found:
        raise Gone(f"no {what} in the page")
    return found.group(1)


def _path(url: str) -> str:
    """The path of an absolute url on the public host (the round-robin picks the dyno)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url


def _quote(value: str) -> str:
    """Form-encode one value."""
    from urllib.parse import quote_plus

    return quote_plus(value)


def _keep_cookies(jar: dict[str, str], answer) -> None:
    """Keep (or drop, when expired) the cookies an answer sets."""
    for header in answer.headers.get_all("set-cookie", []) if answer.headers else []:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower():
            jar.pop(name.strip(), None)
        else:
            jar[name.strip()] = value.strip()


def _error(answer) -> str:
    """What kind of connection error a failed request met."""
    error = getattr(answer, "error", None) or getattr(answer, "_error", None)
    return type(error).__name__ if error else "no answer"


# --- how many customers at once ---------------------------------------------------------

#: What the load shape did: (second, customers) at each change, the level it held, and
#: Locust's response-time histogram 20 s after it began to hold, once the queue the probe
#: built has drained (the settled state starts there).
SHAPE: dict = {
    "changes": [],
    "held": None,
    "held_from": None,
    "settled_from": None,
    "histogram_settled": {},
    # [second, customers, requests, requests over SLOW_MS] of each 10-second window
    "windows": [],
}


class SaleDay(LoadTestShape):
    """The highest concurrency the machine sustains: add two customers a second (from 10)
    until more than 1 % of the last 10 seconds' requests took over a second (or 40 % of the
    run has passed), then hold a quarter below that for the rest of the run, easing off by
    a tenth (at most every 20 s) whenever the last 10 seconds breach that again. With
    REHEARSAL_USERS, ramp to that number in a minute (or a fifth of the run) and hold it."""

    START, GROWTH, WINDOW, SLOW_MS, SLOW_SHARE, BACK_OFF, EASE = 10, 2.0, 10, 1000, 0.01, 0.75, 0.9
    #: Stop probing after this share of the run and hold what was reached.
    PROBE_SHARE = 0.4

    def __init__(self) -> None:
        super().__init__()
        self.target = float(self.START)
        self.held: int | None = None
        self.calm_until = 0.0
        self.history: list[tuple[float, dict]] = []

    def tick(self):
        """Called every second by Locust: (customers, spawn rate), or None to stop."""
        now = self.get_run_time()
        if now >= RUN_SECONDS:
            return None
        slow, total = self._window(now)
        if int(now) % self.WINDOW == 0 and int(now) != (SHAPE["windows"] or [[-1]])[-1][0]:
            SHAPE["windows"].append([int(now), self.runner.user_count, total, slow])
        self._settle(now)
        if FIXED_USERS:
            ramp = min(60.0, RUN_SECONDS / 5)
            if now >= ramp and self.held is None:
                self._hold(FIXED_USERS, now)
            return self._level(self.held or max(1, FIXED_USERS * now / ramp), now)
        breached = total >= 50 and slow / total > self.SLOW_SHARE
        if self.held is None:
            if breached:
                self._hold(max(self.START, int(self.runner.user_count * self.BACK_OFF)), now)
            elif now >= RUN_SECONDS * self.PROBE_SHARE:
                self._hold(int(self.target), now)
            else:
                self.target += self.GROWTH
        elif breached and now >= self.calm_until:
            # Other work on the machine took some of it: ease off a little more.
            self.held = max(self.START, int(self.held * self.EASE))
            self.calm_until = now + self.WINDOW * 2
        return self._level(self.held or self.target, now)

    def _level(self, users: float, now: float) -> tuple[int, float]:
        """The level to run at, noted when it changes."""
        users = int(users)
        if not SHAPE["changes"] or SHAPE["changes"][-1][1] != users:
            SHAPE["changes"].append((round(now), users))
        return users, 10.0

    def _hold(self, users: int, now: float) -> None:
        """From now on, `users` customers at once (fewer if the machine gets busier)."""
        self.held = users
        self.calm_until = now + self.WINDOW * 2
        SHAPE.update(held=users, held_from=round(now))

    def _settle(self, now: float) -> None:
        """Mark where the settled state begins, two windows after the hold."""
        if (
            SHAPE["settled_from"] is None
            and self.held
            and now >= SHAPE["held_from"] + 2 * self.WINDOW
        ):
            SHAPE.update(settled_from=round(now))
            SHAPE["histogram_settled"] = dict(self.runner.stats.total.response_times)

    def _window(self, now: float) -> tuple[int, int]:
        """(requests over SLOW_MS, requests) in the last WINDOW seconds."""
        times = dict(self.runner.stats.total.response_times)
        self.history.append((now, times))
        while self.history and self.history[0][0] < now - self.WINDOW:
            self.history.pop(0)
        before = self.history[0][1]
        slow = sum(n - before.get(ms, 0) for ms, n in times.items() if ms > self.SLOW_MS)
        total = sum(times.values()) - sum(before.values())
        return slow, total


# --- results, for the rehearsal's report ----------------------------------------------


@events.quitting.add_listener
def _write_results(environment, **_kwargs) -> None:
    """Per step: requests, failures, p50, p99 and the share over 1 s; causes; journeys."""
    if not RESULTS:
        return
    steps = {}
    for (name, _method), entry in sorted(environment.stats.entries.items()):
        stats = steps.setdefault(name, {"requests": 0, "failures": 0, "times": Counter()})
        stats["requests"] += entry.num_requests
        stats["failures"] += entry.num_failures
        stats["times"].update(entry.response_times)
    with open(RESULTS, "w") as out:
        json.dump(
            {
                "steps": {
                    name: {**s, "times": {str(k): v for k, v in s["times"].items()}}
                    for name, s in steps.items()
                },
                "causes": [[*key, count] for key, count in sorted(CAUSES.items())],
                "journeys": dict(JOURNEYS),
                "replays": dict(REPLAYS),
                "shape": {
                    **SHAPE,
                    "histogram_settled": {str(k): v for k, v in SHAPE["histogram_settled"].items()},
                    "histogram_at_end": {
                        str(k): v for k, v in environment.stats.total.response_times.items()
                    },
                },
                "written_at": time.time(),
            },
            out,
        )
