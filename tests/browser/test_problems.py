"""The problem collector every browser test relies on does see what it must fail on."""

import pytest

pytestmark = pytest.mark.browser

INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.inlineRan = true";
  document.body.append(script);
}"""


def test_the_collector_sees_a_404_a_csp_violation_and_an_uncaught_error(page, shop, problems):
    page.goto("/no-such-page")
    page.evaluate(INLINE_SCRIPT)
    page.evaluate("() => setTimeout(() => { throw new Error('boom from the page') })")
    page.wait_for_timeout(200)

    seen = "\n".join(problems.unexpected())
    assert "HTTP 404: GET" in seen
    assert "CSP violation: script-src-elem blocked inline" in seen
    assert "page error: boom from the page" in seen
    assert page.evaluate("window.inlineRan") is None  # the CSP did block it
    problems.allow(".")  # all of it was on purpose
