"""Accounts: registration, login, logout, and what happens to visitors who must log in."""

from flask import Response, abort, redirect, request, url_for
from flask_login import LoginManager, current_user

from ..extensions import login_manager
from ..htmx import hx_redirect, is_htmx
from . import sessions


def configure_login(manager: LoginManager) -> None:
    """Load users from sessions that can be ended; send anonymous visitors to log in."""
    manager.login_view = "auth.login"
    sessions.configure(manager)

    @manager.unauthorized_handler
    def unauthorized():
        """htmx gets 401 with HX-Redirect to log in and come back to the page; others a 302."""
        if is_htmx():
            return hx_redirect(url_for("auth.login", next="/"), status=401)
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        return redirect(url_for("auth.login", next=target))


def require_admin() -> Response | None:
    """Guard a whole blueprint (`bp.before_request(require_admin)`): visitors are sent to log
    in and come back, and anyone but an admin gets the 404 of a page that does not exist."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    return None
