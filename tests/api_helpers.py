"""Helpers for JSON API tests: a token made on the account page, and a client without cookies."""

import re

from conftest import csrf_token

NEW_TOKEN = re.compile(r"<code[^>]*data-new-token[^>]*>([^<]+)</code>")


def make_token(client, name: str = "my script") -> str:
    """Make a token through the account page's form (CSRF on) and read it off the answer."""
    response = client.post(
        "/account/tokens", data={"name": name, "csrf_token": csrf_token(client, "/account")}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    match = NEW_TOKEN.search(response.get_data(as_text=True))
    assert match, "the answer shows no new token"
    return match.group(1)


class Api:
    """The JSON API as a script calls it: a client of its own (no cookies), a bearer token."""

    def __init__(self, app, token: str | None = None):
        self.client = app.test_client(use_cookies=False)
        self.token = token

    def headers(self, **extra) -> dict:
        found = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**found, **extra}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers(**kwargs.pop("headers", {})), **kwargs)

    def post(self, path: str, json=None, key: str | None = None, **kwargs):
        headers = self.headers(**kwargs.pop("headers", {}))
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(path, json=json, headers=headers, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        headers = self.headers(**kwargs.pop("headers", {}))
        return self.client.put(path, json=json, headers=headers, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers(**kwargs.pop("headers", {})), **kwargs)


def customer(app, email: str = "bob@example.com"):
    """Another customer, made in the database and signed in on a client of their own."""
    from cart_helpers import login_client

    from conftest import FAST_HASH, PASSWORD
    from shop.auth import services

    with app.app_context():
        services.register_user(email, PASSWORD, FAST_HASH)
    return login_client(app, email)
