"""One pending Checkout Session per customer, with 4 gunicorn workers on PostgreSQL."""

from collections import Counter

import pytest

from .shop_server import session_id_of, together

pytestmark = pytest.mark.postgres

CLICKS = 50


def fill_cart(customer, products, lines: dict[str, int]) -> None:
    """Put `lines` (SKU -> quantity) in the customer's cart through the real route."""
    for sku, quantity in lines.items():
        answer = customer.send(
            "POST", "/cart/items", {"product_id": products[sku], "quantity": quantity}
        )
        assert answer.status_code == 200, answer.text[:300]


def test_fifty_simultaneous_checkouts_make_one_stripe_session(server, products):
    ada = server.add_customer()
    fill_cart(ada, products, {"BEAN-ETH-250": 2, "GEAR-KETTLE": 1})
    tabs = [ada.tab() for _ in range(CLICKS)]

    answers, seconds = together(CLICKS, lambda i: tabs[i].send("POST", "/checkout"))

    statuses = Counter(answer.status_code for answer in answers)
    redirects = {answer.headers.get("HX-Redirect") for answer in answers}
    sessions = server.sessions_of(ada.user_id)
    stored = server.scalar(
        "SELECT count(*) FROM emulator_checkout_sessions WHERE client_reference_id = :u",
        u=str(ada.user_id),
    )
    orders = server.rows("SELECT status FROM orders WHERE user_id = :u", u=ada.user_id)
    print(
        f"\n{CLICKS} simultaneous POST /checkout in {seconds:.2f}s: statuses {dict(statuses)}, "
        f"distinct HX-Redirect {len(redirects)}, Stripe sessions {len(sessions)} "
        f"(emulator table {stored}), orders {[status for (status,) in orders]}"
    )
    assert statuses == {200: CLICKS}
    assert len(sessions) == 1 and stored == 1
    assert redirects == {sessions[0].url}
    assert [status for (status,) in orders] == ["pending"]
    assert session_id_of(sessions[0].url) == sessions[0].id


def test_two_customers_checking_out_at_once_never_see_each_others_sessions(server, products):
    ada, bob = server.add_customer(), server.add_customer()
    fill_cart(ada, products, {"BEAN-ETH-250": 1})
    fill_cart(bob, products, {"GEAR-KETTLE": 2})
    per_customer = 20
    tabs = [ada.tab() if i % 2 == 0 else bob.tab() for i in range(2 * per_customer)]

    answers, seconds = together(len(tabs), lambda i: tabs[i].send("POST", "/checkout"))

    seen = {ada.user_id: set(), bob.user_id: set()}
    for tab, answer in zip(tabs, answers, strict=True):
        assert answer.status_code == 200, answer.text[:300]
        seen[tab.user_id].add(answer.headers["HX-Redirect"])
    sessions = {c.user_id: server.sessions_of(c.user_id) for c in (ada, bob)}
    print(
        f"\n2 x {per_customer} simultaneous POST /checkout in {seconds:.2f}s: "
        f"distinct urls per customer {[len(urls) for urls in seen.values()]}, "
        f"Stripe sessions per customer {[len(found) for found in sessions.values()]}"
    )
    for customer in (ada, bob):
        [session] = sessions[customer.user_id]
        assert seen[customer.user_id] == {session.url}
        # The session is for the account's own Stripe Customer, which carries its email.
        assert server.stripe_api().v1.customers.retrieve(session.customer).email == customer.email
        owner = server.scalar(
            "SELECT user_id FROM orders WHERE id = :id", id=int(session.metadata["order_id"])
        )
        assert owner == customer.user_id
    assert seen[ada.user_id].isdisjoint(seen[bob.user_id])

    # Neither can reach the other's session through the shop.
    ada_session = sessions[ada.user_id][0]
    assert bob.get(f"/checkout/success?session_id={ada_session.id}").status_code == 404
    bob_orders = bob.get("/orders", htmx=True).text
    ada_order = ada_session.metadata["order_id"]
    assert f'data-order-id="{ada_order}"' not in bob_orders
    assert f'data-order-id="{ada_order}"' in ada.get("/orders", htmx=True).text
