"""One banner landmark on every page, whichever dialog the server renders open.

A `<header>` outside `main` (and outside article, aside, nav, section) is a banner. The
dialogs' heads used to be headers: a page rendered with a dialog open (the success page,
a form posted without JS) had two banners until shop.js made the dialog modal, which axe
caught in the browser tests when it ran first.
"""

import re

import pytest

from checkout_helpers import make_orders


def banners(html: str) -> int:
    """`<header>` elements outside `<main>`: banner landmarks."""
    outside_main = re.sub(r"<main\b.*?</main>", "", html, flags=re.S)
    return len(re.findall(r"<header\b", outside_main))


@pytest.mark.parametrize("path", ["/", "/cart", "/orders"])
def test_every_page_has_one_banner_with_its_dialog_open(app, client, user, seeded, path):
    make_orders(app, user, next(iter(seeded.values())), 1)
    html = client.get(path).get_data(as_text=True)
    assert 'class="site-header"' in html
    assert banners(html) == 1


def test_a_visitor_s_page_has_one_banner(client, seeded):
    assert banners(client.get("/").get_data(as_text=True)) == 1
