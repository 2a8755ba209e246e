"""A visitor registers, logs out and logs back in through the forms."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import snap
from conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_register_log_out_and_log_in_again(page, shop):
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Email", exact=True).fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    snap(page, "register")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("status").filter(has_text="Welcome")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("button", name="Add").first).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    # Signed out: the cards still add (to a cart kept in the session), with no hearts.
    expect(page.get_by_role("button", name="Add").first).to_be_visible()
    expect(page.locator(".heart")).to_have_count(0)

    page.get_by_role("link", name="Log in", exact=True).click()
    page.get_by_label("Email", exact=True).fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message(page, customer, problems):
    problems.allow_status(422, "/login")  # the refused form answers 422, on purpose
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(customer)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an account."
    )
    expect(page.get_by_label("Email", exact=True)).to_have_value(customer)
    snap(page, "login-refused")


def test_the_account_page_changes_the_password_then_logs_out_everywhere(signed_in, customer):
    page = signed_in
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    page.get_by_label("Current password").first.fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("lantern meadow quartz")
    page.get_by_label("Confirm new password").fill("lantern meadow quartz")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()
    snap(page, "account")

    page.get_by_role("button", name="Log out everywhere").click()
    expect(page.get_by_role("heading", name="Log in", exact=True)).to_be_visible()
    page.goto("/orders")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email", exact=True).fill(customer)
    page.get_by_label("Password", exact=True).fill("lantern meadow quartz")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_forgot_password_answers_the_same_for_any_address(page, shop):
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email", exact=True).fill("nobody@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(
        page.get_by_role("status").filter(has_text="If an account uses that address")
    ).to_be_visible()
