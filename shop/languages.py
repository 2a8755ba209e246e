"""The languages the shop speaks, and the one a request is answered in.

English and German. A choice made with the header's switch (`POST /language`) lives in
the session and, once signed in, on the account (`User.language`), which wins: it follows
the customer to every device and into their emails. Without a choice the browser's
`Accept-Language` decides, else English. Flask-Babel asks `current()` for every message,
number, amount and date it formats.
"""

from flask import Flask, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

#: The languages offered, the default first.
OFFERED = ("en", "de")
DEFAULT = OFFERED[0]
#: Their names in themselves, for the switch.
NAMES = {"en": "English", "de": "Deutsch"}
#: The session key holding a visitor's (and a customer's) choice.
SESSION_KEY = "language"


def chosen(raw: object) -> str | None:
    """The offered language `raw` names (`de`, `DE`, `de-AT`...); None for anything else."""
    if not isinstance(raw, str) or len(raw) > 16:
        return None
    code = raw.strip().lower().replace("_", "-").split("-")[0]
    return code if code in OFFERED else None


def current() -> str:
    """The language of this request: the account's, else the session's, else the best
    of `Accept-Language`, else English. Outside a request (the worker): English."""
    if not has_request_context():
        return g.get("language", DEFAULT) if has_app_context() else DEFAULT
    found = g.get("language")
    if found is None:
        account = getattr(current_user, "language", None) if current_user else None
        found = (
            chosen(account)
            or chosen(session.get(SESSION_KEY))
            or request.accept_languages.best_match(OFFERED)
            or DEFAULT
        )
        g.language = found
    return found


def formatting() -> str:
    """The language numbers, amounts and dates are written in now: Flask-Babel's locale,
    which `force_locale` (an email written for its customer) overrides; English outside
    an app."""
    if not has_app_context():
        return DEFAULT
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def remember(code: str) -> None:
    """Answer this visitor's next requests in `code` (an offered language)."""
    session[SESSION_KEY] = code
    g.language = code


#: Each language's compiled catalogue, loaded once per process (the .mo files do not change
#: while it runs).
_catalogues: dict[str, object] = {}


def catalogue():
    """The message catalogue of the language text is written in now (`formatting`, so
    `force_locale` is honoured): Flask-Babel's own, kept by language code. Flask-Babel looks
    it up afresh for every message (its context, its locale, the locale's name); a cart of
    ten lines has fifty messages."""
    code = formatting()
    found = _catalogues.get(code)
    if found is None:
        found = get_translations()
        if has_app_context():  # outside an app Flask-Babel answers an empty catalogue
            _catalogues[code] = found
    return found


@pass_eval_context
def _template_gettext(eval_context, text: str, **variables) -> str:
    """A template's `_()`/`gettext()`: the message in the current language, formatted with
    `variables` (escaped in autoescaped templates), as Jinja's new-style gettext does."""
    found = catalogue().ugettext(text)
    if eval_context.autoescape:
        found = Markup(found)
    return found % variables


@pass_eval_context
def _template_ngettext(eval_context, one: str, many: str, num: int, **variables) -> str:
    """A template's `ngettext()`: the singular or plural for `num` (also `%(num)d`)."""
    variables.setdefault("num", num)
    found = catalogue().ungettext(one, many, num)
    if eval_context.autoescape:
        found = Markup(found)
    return found % variables


def install_template_messages(app: Flask) -> None:
    """Templates' `_()`, `gettext()` and `ngettext()` through `catalogue`, formatted as
    Jinja's new-style gettext formats them (the only forms the templates use).

    Jinja's own are `pass_context` functions, which copy the template's context for each
    call inside a loop (~16 µs each); these take only the evaluation context (autoescape)."""
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )
