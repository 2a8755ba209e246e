"""Every colour pair the stylesheet puts text in meets WCAG AA for normal text (4.5:1).

The stylesheet is read as the browser would: comments dropped, custom properties resolved.
A rule that sets a text colour is measured on its own background when it sets one, and
otherwise on both surfaces text sits on (the page's paper and the white cards and dialogs).
A rule that sets only a background is measured with the text colour it inherits: its base
rule's (`.toast-error` from `.toast`, `.button.secondary` from `.button`), else the ink."""

import re
from pathlib import Path

import pytest

from shop.orders.models import OrderStatus

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "shop.css"
AA = 4.5


def _rules(css: str) -> list[tuple[str, dict[str, str]]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {
            name.strip(): value.strip()
            for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)
        }
        for selector in selectors.split(","):
            rules.append((" ".join(selector.split()), declarations))
    return rules


RULES = _rules(CSS.read_text())
PROPERTIES = {
    name[2:]: value
    for selector, body in RULES
    if selector == ":root"
    for name, value in body.items()
}


def colour(value: str | None) -> str | None:
    """The #rrggbb a declaration names, custom properties resolved; None for anything else
    (none, transparent, gradients, inherit)."""
    if value is None:
        return None
    value = value.split()[0] if value.startswith(("#", "var(")) else value
    var = re.fullmatch(r"var\(--([\w-]+)\)", value)
    if var:
        return colour(PROPERTIES[var.group(1)])
    hexa = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value)
    if not hexa:
        return None
    digits = hexa.group(1)
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits).lower()


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _declared(selector: str, name: str) -> str | None:
    found = None
    for rule_selector, body in RULES:
        if rule_selector == selector and name in body:
            found = body[name]
    return found


def _background(body: dict[str, str]) -> str | None:
    return colour(body.get("background-color") or body.get("background"))


def _base(selector: str) -> str | None:
    """The rule a variant builds on: `.toast-error` → `.toast`, `.button.danger` → `.button`."""
    compound = re.fullmatch(r"(\.[\w-]+)\.[\w-]+", selector)
    if compound:
        return compound.group(1)
    variant = re.fullmatch(r"(\.[\w]+)-[\w-]+", selector)
    return variant.group(1) if variant else None


def _inherited_text(selector: str) -> str:
    base = _base(selector)
    while base:
        text = colour(_declared(base, "color"))
        if text:
            return text
        base = _base(base)
    return colour(PROPERTIES["ink"])


def pairs() -> list[tuple[str, str, str]]:
    """(selector, text, background) for every rule that colours text or a text's ground."""
    surfaces = [colour(PROPERTIES["paper"]), colour(PROPERTIES["card"])]
    found = []
    for selector, body in RULES:
        if selector == ":root" or "::" in selector:
            continue
        text, ground = colour(body.get("color")), _background(body)
        if text and ground:
            found.append((selector, text, ground))
        elif text:
            found += [(selector, text, surface) for surface in surfaces]
        elif ground and selector not in {"body", "html"}:
            found.append((selector, _inherited_text(selector), ground))
    return found


def test_the_stylesheet_is_read():
    """The parser finds the page's palette and the badges (a parser that finds nothing
    would pass every pair below)."""
    assert colour("var(--paper)") == "#faf7f2"
    assert len(pairs()) > 60
    assert any(selector == ".status-pending" for selector, _, _ in pairs())


@pytest.mark.parametrize("selector,text,ground", pairs(), ids=lambda v: v if "." in v else "")
def test_text_meets_wcag_aa(selector, text, ground):
    ratio = contrast(text, ground)
    assert ratio >= AA, f"{selector}: {text} on {ground} is {ratio:.2f}:1, under {AA}:1"


@pytest.mark.parametrize("status", [*(s.value for s in OrderStatus), "shipped", "attention"])
def test_every_status_badge_sets_both_colours(status):
    """A badge without its own pair would fall back to the grey .status ground; every status
    an order can show has its own text and ground, measured above."""
    selector = f".status-{status}"
    assert colour(_declared(selector, "color")), selector
    assert colour(_declared(selector, "background") or _declared(selector, "background-color")), (
        selector
    )


def test_the_contrast_formula():
    """WCAG's own reference points: black on white is 21:1, a colour on itself 1:1, and
    #767676 on white is the lightest grey that passes AA (4.54:1)."""
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#9a6b00", "#9a6b00") == pytest.approx(1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#9a6b00", "#fff3cd") < AA  # the pending badge as it was
