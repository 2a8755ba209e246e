"""The shop's contact: every page's footer and every email's end name SUPPORT_EMAIL and
SHOP_ADDRESS; a SUPPORT_EMAIL that is not one address stops start-up."""

import pytest
from test_shipping import email

from shop.config import ConfigError, load_config


@pytest.mark.parametrize("path", ["/", "/login", "/products/GEAR-KETTLE", "/no-such-page"])
def test_every_page_has_the_contact_in_its_footer(client, seeded, path):
    html = client.get(path).get_data(as_text=True)
    footer = html[html.index('<footer class="site-footer">') :]
    assert 'href="mailto:help@northside.example"' in footer
    assert "<address>Northside Roastery, 12 Harbour Lane, Portland, OR 97201" in footer
    assert "shipping or a return" in footer


def test_emails_end_with_the_support_address(app, admin, user, seeded):
    from admin_helpers import ship
    from checkout_helpers import make_orders

    app.config["SUPPORT_EMAIL"] = "care@roastery.example"
    [order_id] = make_orders(app, user, seeded["MUG-STONE"])
    assert ship(admin.client, order_id, carrier="DHL").status_code == 303
    notice = email(app, "shipping")
    assert "Questions? Write to care@roastery.example." in notice.get_body(("plain",)).get_content()
    assert 'href="mailto:care@roastery.example"' in notice.get_body(("html",)).get_content()


@pytest.mark.parametrize("value", ["nobody", "a@b.example, c@d.example", "Help <h@x.example>"])
def test_a_support_email_that_is_not_one_address_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="SUPPORT_EMAIL must be one email address"):
        load_config({"FLASK_DEBUG": "1", "SUPPORT_EMAIL": value}, str(tmp_path))
