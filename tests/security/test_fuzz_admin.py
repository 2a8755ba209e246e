"""Property-based: whatever an admin's filters or shipment form carry, no 500; a refused
shipment changes nothing, an accepted one records exactly what was typed (trimmed)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin_helpers import paid, set_order, ship, stored

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples in every run: CI cannot flake
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Anything at all (NUL and friends included), and values close to the valid ones.
text = st.text(max_size=300) | st.sampled_from(["", " ", "\x00", "%", "'--", "x" * 65])
filter_value = text | st.sampled_from(["paid", "unfulfilled", "shipped", "today", "week", "2"])
tracking = text | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 -]{0,70}", fullmatch=True)


@FUZZ
@given(
    status=filter_value,
    fulfilment=filter_value,
    period=filter_value,
    q=filter_value,
    page=filter_value,
    htmx=st.booleans(),
)
def test_the_orders_list_never_fails(admin, status, fulfilment, period, q, page, htmx):
    query = {"status": status, "fulfilment": fulfilment, "period": period, "q": q, "page": page}
    headers = {"HX-Request": "true"} if htmx else {}
    response = admin.client.get("/admin/orders", query_string=query, headers=headers)
    assert response.status_code in (200, 400)


@FUZZ
@given(carrier=text, tracking_number=tracking, htmx=st.booleans())
def test_the_shipment_form_never_fails_and_refusals_change_nothing(
    app, admin, order, carrier, tracking_number, htmx
):
    app.config["ADMIN_RATE_LIMIT"] = "100000 per minute"  # the limit has its own test
    order_id = order.id if stored(app, order.id).status == "paid" else paid(app, order).id
    fields = {"carrier": carrier, "tracking_number": tracking_number}
    response = ship(admin.client, order_id, htmx=htmx, **fields)
    assert response.status_code in ((200,) if htmx else (303,)) + (400, 422)
    after = stored(app, order_id)
    if response.status_code in (200, 303):
        assert after.fulfilment == "shipped"
        assert after.carrier == (carrier.strip() or None)
        assert after.tracking_number == (tracking_number.strip() or None)
        unship = {"shipped_at": None, "carrier": None, "tracking_number": None}
        set_order(app, order_id, fulfilment="unfulfilled", **unship)
    else:
        assert (after.fulfilment, after.carrier, after.tracking_number) == (
            "unfulfilled",
            None,
            None,
        )
