"""A request whose first statement finds its connection dropped runs once more, and only
then (`shop.connections.retry_first_statement`); PostgreSQL itself in tests/postgres/."""

import pytest
from flask import g
from sqlalchemy import exc

from shop import connections


def dropped() -> exc.DBAPIError:
    """What SQLAlchemy raises when the server has closed the connection under a statement."""
    error = exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    error.connection_invalidated = True
    return error


def steps(*outcomes):
    """A step failing or answering in turn, and the list of its calls."""
    calls = []

    def step():
        calls.append(len(calls))
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return step, calls


def test_a_dropped_connection_at_the_first_statement_is_tried_once_more(app):
    step, calls = steps(dropped(), "page")
    forgotten = []
    with app.test_request_context("/"):
        assert connections.retry_first_statement(step, lambda: forgotten.append(1)) == "page"
    assert calls == [0, 1] and forgotten == [1]


def test_a_second_drop_is_not_tried_again(app):
    step, calls = steps(dropped(), dropped())
    with app.test_request_context("/"), pytest.raises(exc.OperationalError):
        connections.retry_first_statement(step, lambda: None)
    assert calls == [0, 1]


def test_a_drop_after_a_statement_went_through_is_not_retried(app):
    step, calls = steps(dropped(), "page")
    with app.test_request_context("/"):
        setattr(g, connections._STATEMENTS, 1)  # something already reached the database
        with pytest.raises(exc.OperationalError):
            connections.retry_first_statement(step, lambda: None)
    assert calls == [0]


def test_other_database_errors_are_not_retried(app):
    refused = exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    step, calls = steps(refused, "page")
    with app.test_request_context("/"), pytest.raises(exc.IntegrityError):
        connections.retry_first_statement(step, lambda: None)
    assert calls == [0]


def test_statements_that_reach_the_database_are_counted(app, client):
    with app.test_request_context("/"):
        from shop.extensions import db

        db.session.execute(db.text("SELECT 1"))
        assert getattr(g, connections._STATEMENTS) == 1
        db.session.rollback()
