"""`GET /healthz`: does the database answer?"""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, read_without_transaction

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 `ok` when a trivial query succeeds, 503 otherwise (for the PaaS router). Outside
    a transaction: one round trip, not three (BEGIN, the query, ROLLBACK)."""
    try:
        read_without_transaction()
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("healthz: database unavailable", exc_info=True)
        return "database unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
