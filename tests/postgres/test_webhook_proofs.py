"""Fulfilment runs once per paid session, however many deliveries and success pages race,
with 4 gunicorn workers on PostgreSQL."""

from collections import Counter

import pytest
import requests

from .shop_server import completed_event, session_id_of, together

pytestmark = pytest.mark.postgres

BOUGHT, ADDED_AFTER = 3, 2  # units checked out, and added to the same line afterwards


def paid_checkout(server, products):
    """A customer who checked out 3 units, added 2 more, then paid at Stripe; the shop
    has not heard of the payment yet. Returns (customer, product id, session)."""
    customer = server.add_customer()
    beans = products["BEAN-ESP-1K"]
    line = {"product_id": beans, "quantity": BOUGHT}
    assert customer.send("POST", "/cart/items", line).status_code == 200
    session_id = session_id_of(customer.send("POST", "/checkout").headers["HX-Redirect"])
    line["quantity"] = ADDED_AFTER
    assert customer.send("POST", "/cart/items", line).status_code == 200
    return customer, beans, server.pay_at_stripe(session_id)


def counts(server, customer, product_id: int) -> dict:
    """What the database saw for this customer: paid writes, cart reductions, the line now."""
    return {
        "paid writes": server.scalar(
            "SELECT count(*) FROM proof_status_writes w JOIN orders o ON o.id = w.order_id "
            "WHERE o.user_id = :u AND w.new_status = 'paid'",
            u=customer.user_id,
        ),
        "cart reductions": server.scalar(
            "SELECT count(*) FROM proof_cart_writes WHERE user_id = :u AND product_id = :p "
            "AND (op = 'DELETE' OR new_quantity < old_quantity)",
            u=customer.user_id,
            p=product_id,
        ),
        "quantity left": server.scalar(
            "SELECT quantity FROM cart_items WHERE user_id = :u AND product_id = :p",
            u=customer.user_id,
            p=product_id,
        ),
        "order": server.rows(
            "SELECT status, payment_intent_id FROM orders WHERE user_id = :u", u=customer.user_id
        ),
    }


def test_the_same_event_delivered_five_times_at_once_fulfils_once(server, products):
    customer, beans, session = paid_checkout(server, products)
    event = completed_event(session)
    body, headers = server.webhook(event)

    answers, seconds = together(
        5,
        lambda _: requests.post(
            server.url("/stripe/webhook"), data=body, headers=headers, timeout=30
        ),
    )

    outcomes = Counter((a.status_code, next(iter(a.json().values()))) for a in answers)
    recorded = server.scalar("SELECT count(*) FROM stripe_events WHERE id = :id", id=event["id"])
    seen = counts(server, customer, beans)
    print(
        f"\n5 simultaneous deliveries of {event['id']} in {seconds:.2f}s: {dict(outcomes)}; "
        f"events recorded {recorded}; {seen}"
    )
    assert outcomes == {(200, "handled"): 1, (200, "duplicate event ignored"): 4}
    assert recorded == 1
    assert seen["paid writes"] == 1 and seen["cart reductions"] == 1
    assert seen["quantity left"] == ADDED_AFTER
    assert seen["order"] == [("paid", session["payment_intent"])]


ROUNDS = 4


def success_page_and_webhook_at_once(server, products) -> dict:
    """One paid checkout whose success page and webhook arrive together; the counts."""
    customer, beans, session = paid_checkout(server, products)
    body, headers = server.webhook(completed_event(session))

    def arrive(index: int) -> requests.Response:
        """Thread 0: the customer back on the success page; thread 1: Stripe's event."""
        if index == 0:
            return customer.get(f"/checkout/success?session_id={session['id']}")
        return requests.post(server.url("/stripe/webhook"), data=body, headers=headers, timeout=30)

    (back, delivered), _ = together(2, arrive)
    seen = counts(server, customer, beans)
    assert back.status_code == 200 and "is paid" in back.text
    assert delivered.status_code == 200, delivered.text
    assert seen["paid writes"] == 1 and seen["cart reductions"] == 1, seen
    assert seen["quantity left"] == ADDED_AFTER
    assert seen["order"] == [("paid", session["payment_intent"])]
    return {**seen, "webhook": delivered.json()["received"]}


def test_success_page_and_webhook_at_the_same_instant_fulfil_once(server, products):
    rounds = [success_page_and_webhook_at_once(server, products) for _ in range(ROUNDS)]
    totals = Counter()
    for seen in rounds:
        totals.update(
            {
                "paid writes": seen["paid writes"],
                "cart reductions": seen["cart reductions"],
                f"webhook {seen['webhook']}": 1,
            }
        )
    print(f"\n{ROUNDS} rounds of success page + webhook at once: {dict(totals)}")
    assert totals["paid writes"] == ROUNDS and totals["cart reductions"] == ROUNDS
