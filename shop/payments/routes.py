"""`POST /stripe/webhook`: Stripe's deliveries, verified by signature instead of CSRF."""

from flask import Blueprint, current_app, jsonify, request

from ..extensions import csrf
from . import webhooks

bp = Blueprint("payments", __name__)


@bp.post("/stripe/webhook")
@csrf.exempt  # Stripe cannot send our CSRF token; the signature authenticates it
def webhook():
    """Verify and handle one event; the status tells Stripe whether to retry."""
    if (request.content_length or 0) > webhooks.MAX_BODY_BYTES:
        return jsonify(error="payload too large"), 413
    # The raw bytes as sent, whatever the Content-Type: the input guard has read and
    # cached them (bounded by MAX_CONTENT_LENGTH), so the stream itself may be spent.
    payload = request.get_data(cache=True)
    if len(payload) > webhooks.MAX_BODY_BYTES:  # chunked bodies carry no length up front
        return jsonify(error="payload too large"), 413
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if secret is None:  # a demo's generated secret is not readable yet (database away)
        current_app.logger.warning("webhook refused: the installation secret is not readable")
        return jsonify(error="webhook secret unavailable; retry later"), 503
    outcome = webhooks.receive(payload, request.headers.get("Stripe-Signature"), secret)
    key = "received" if outcome.status == 200 else "error"
    return jsonify({key: outcome.message}), outcome.status
