"""The German catalogue is complete and current, and no words a person reads bypass it.

- Extracting the messages again (as `make translations` does) finds nothing the catalogue
  lacks, nothing left untranslated or fuzzy, and the committed `.mo` is the `.po` compiled.
- Templates hold no text outside `_()`/`ngettext()` (a text node or a visible attribute).
- Python hands no literal text to what people read (flash, abort, error pages, dialogs,
  the refusals the pages show) without gettext.

The JSON API's own messages are English on purpose (docs/api.md).
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "de" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
TEMPLATES = ROOT / "templates"
PYBABEL = Path(sys.executable).parent / "pybabel"

#: Words that are the same in every language: the shop's name, Stripe's, sample data.
SAME_EVERYWHERE = {"Northside Roastery", "Stripe", "×", "—", "←", "&times;", "&minus;"}
#: Templates for developers, in English like the JSON API they describe (docs/api.md).
NOT_PROSE = {"api/explorer.html", "api/reference.html"}
#: Python that people do not read: the JSON API (English by design), developer tooling.
NOT_PEOPLE = ("shop/api/", "shop/cli.py", "shop/orders/cli.py", "shop/payments/emulator/cli.py",
              "shop/settings.py", "shop/config.py", "shop/deploy.py")  # fmt: skip
#: Calls whose text argument a person reads.
SHOWN = {"flash", "abort", "error_response", "with_dialog", "render_cart", "_refused",
         "_note_fragment", "order_page", "_cards_page", "_page"}  # fmt: skip
#: Exceptions whose message the pages show (the rest are for developers and logs).
SHOWN_ERRORS = re.compile(r"(Refused|Unavailable|InvalidInput|Invalid\w+|PromotionError|"
                          r"CartError|SoldOut|NotSoldIn|CartFull|LineMissing|ProductUnavailable|"
                          r"NoSuchProduct|PaymentError|Shortage)$")  # fmt: skip


def catalogue(path: Path = PO):
    with open(path, "rb") as file:
        return read_po(file, locale="de")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages as `make translations` extracts them now."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [str(PYBABEL), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "N_",
         "--no-location", "-o", str(pot), "shop", "templates"],  # fmt: skip
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with open(pot, "rb") as file:
        return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(file) if m.id}


def key(message):
    return message.id if isinstance(message.id, str) else tuple(message.id)


def test_every_message_is_in_the_german_catalogue(extracted):
    known = {key(m) for m in catalogue() if m.id}
    missing = sorted(map(str, extracted - known))
    assert not missing, f"run `make translations` and translate: {missing[:20]}"
    obsolete = sorted(map(str, known - extracted))
    assert not obsolete, f"no longer in the code (run `make translations`): {obsolete[:20]}"


def test_every_german_message_is_translated_with_its_placeholders():
    problems = []
    count = 0
    for message in catalogue():
        if not message.id:
            continue
        count += 1
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        if not all(strings) or message.fuzzy:
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(re.findall(r"%\(\w+\)\w", " ".join(ids)))
        if set(re.findall(r"%\(\w+\)\w", " ".join(strings))) != wanted:
            problems.append(f"placeholders differ: {ids[0]!r}")
    assert not problems, problems[:20]
    assert count >= 500


def test_the_compiled_catalogue_is_the_po_compiled():
    with open(MO, "rb") as file:
        compiled = {key(m): m.string for m in read_mo(file) if m.id}
    written = {key(m): m.string for m in catalogue() if m.id}

    def norm(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    assert {k: norm(v) for k, v in compiled.items()} == {k: norm(v) for k, v in written.items()}, (
        "run `make translations`: translations/de/LC_MESSAGES/messages.mo is stale"
    )


# --- nothing bypasses the catalogue ----------------------------------------------------------

_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_ATTRS = re.compile(r'\b(aria-label|placeholder|title|alt|data-label)="([^"]*)"')


def _words(text: str) -> str:
    """What is left of a template's text once markup, Jinja and shared words are gone."""
    for same in SAME_EVERYWHERE:
        text = text.replace(same, " ")
    return text if re.search(r"[A-Za-z]{2,}", text) else ""


def template_leftovers(path: Path) -> list[str]:
    source = path.read_text()
    found = []
    for name, value in _ATTRS.findall(source):
        if _words(_JINJA.sub(" ", value)).strip():
            found.append(f'{name}="{value}"')
    body = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", source, flags=re.S)
    body = _JINJA.sub(" ", body)
    body = re.sub(r"<[^>]*>", "\n", body) if path.suffix == ".html" else body
    found += [line.strip() for line in body.splitlines() if _words(line).strip()]
    return found


@pytest.mark.parametrize(
    "template",
    sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*")
        if p.is_file() and p.suffix in (".html", ".txt")
    ),  # fmt: skip
)
def test_templates_hold_no_text_outside_gettext(template):
    if template in NOT_PROSE:
        pytest.skip("the API's reference: English, like the API")
    assert template_leftovers(TEMPLATES / template) == []


def _literal(node) -> str | None:
    """A text literal (or f-string) a person would read: starts with a capital letter."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    else:
        return None
    return text if re.match(r"[A-Z“]\w*\s+\w", text.strip()) else None


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def python_leftovers(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in SHOWN or SHOWN_ERRORS.search(name):
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg == "message")]:
                text = _literal(arg)
                if text:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({text[:60]!r})")
    return found


def test_python_hands_people_no_text_outside_gettext():
    found = []
    for path in sorted((ROOT / "shop").rglob("*.py")):
        if str(path.relative_to(ROOT)).startswith(NOT_PEOPLE):
            continue
        found += python_leftovers(path)
    assert found == [], "\n".join(found)


#: The names Python code calls to translate (as `make translations` extracts them).
GETTEXT_NAMES = {"_", "gettext", "ngettext", "_l", "lazy_gettext", "lazy_ngettext", "N_"}


def gettext_calls(tree) -> list[tuple[int, str]]:
    """(line, msgid) of every translation call with a literal message in `tree`, wherever it
    sits: pybabel does not look inside f-strings, so a `_()` there is never translated."""
    return sorted(
        (node.lineno, node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _name(node.func) in GETTEXT_NAMES
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def test_every_python_message_is_extracted(extracted):
    singulars = {m if isinstance(m, str) else m[0] for m in extracted}
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted((ROOT / "shop").rglob("*.py"))
        for line, text in gettext_calls(ast.parse(path.read_text()))
        if text not in singulars
    ]
    assert missing == [], "not extracted (move it out of the f-string):\n" + "\n".join(missing)


def test_a_message_inside_an_f_string_is_found():
    tree = ast.parse("""note = f"{_('Added.')} {count}"\nplain = _("Saved.")\n""")
    assert gettext_calls(tree) == [(1, "Added."), (2, "Saved.")]


def test_the_checks_above_find_what_they_look_for(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<p>Hello {{ name }}</p><button aria-label="Close it">{{ _("Ok") }}</button>')
    assert template_leftovers(page) == ['aria-label="Close it"', "Hello"]
    code = tmp_path / "view.py"
    code.write_text('flash("Saved the thing.")\nflash(_("Saved the thing."))\n'
                    'raise CheckoutRefused(f"Only {n} left")\n')  # fmt: skip
    sys_root = ROOT
    assert len([line for line in python_leftovers_at(code, sys_root)]) == 2


def python_leftovers_at(path: Path, root: Path) -> list[str]:
    """`python_leftovers` for a file outside the package (the self-test)."""
    tree = ast.parse(path.read_text())
    return [
        _name(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (_name(node.func) in SHOWN or SHOWN_ERRORS.search(_name(node.func)))
        and any(_literal(arg) for arg in node.args)
    ]
