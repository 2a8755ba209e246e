"""The emulator over HTTP: the Stripe API under `/emulator/stripe/v1/...` and the
hosted checkout page at each session's `url`. Registered only in emulator mode."""

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import refresh

from ... import languages
from ...extensions import csrf
from . import api, hosted

bp = Blueprint("emulator", __name__, url_prefix="/emulator")


@bp.route("/stripe/v1/<path:rest>", methods=["GET", "POST", "DELETE"])
@csrf.exempt  # an API authenticated by its bearer key, not a form of ours
def api_request(rest: str):
    """Answer an SDK (or curl) request exactly as the in-process client would."""
    keys = api.http_api_keys(current_app.config) or abort(404)  # off: as if it did not exist
    status, body, headers = api.handle(
        request.method,
        "/v1/" + rest,
        request.query_string.decode("utf-8", "replace"),
        request.get_data(as_text=True),
        dict(request.headers.items()),
        keys,
    )
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.get("/checkout/<session_id>")
def checkout_page(session_id: str):
    """The hosted page: order lines, total, and the card form while the session is open."""
    session = hosted.view(session_id) or abort(404, _("No such checkout session."))
    _speak(session)
    return render_template("emulator/checkout.html", checkout=session)


def _speak(session: dict) -> None:
    """Stripe's page speaks the session's `locale` (the shop asks for the customer's);
    "auto" or none: the browser's language, as the shop's own pages."""
    locale = (session.get("locale") or "").split("-")[0]
    if locale in languages.OFFERED:
        g.language = locale
        refresh()  # Flask-Babel keeps a request's locale once asked


@bp.post("/checkout/<session_id>")
def pay(session_id: str):
    """Pay with the posted `card_number` (and the shipping fields): 303 to `success_url`, or
    the page with why not."""
    try:
        form = {
            key: value
            for key, value in request.form.items()
            if key.startswith("shipping_")
            or key in ("promotion_code", "save_card", "payment_method")
        }
        result = hosted.pay(session_id, request.form.get("card_number", ""), form)
    except hosted.PaymentError as error:
        session = hosted.view(session_id) or abort(404, _("No such checkout session."))
        _speak(session)
        page = render_template("emulator/checkout.html", checkout=session, error=error.message)
        return page, error.status
    return redirect(result["redirect_url"], 303)
