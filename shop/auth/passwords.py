"""The one password rule, for every new password: sign-up, change, reset, `flask create-admin`.

Long enough (12 to 128 characters), not guessable (zxcvbn, offline: common passwords,
dictionary words, names, keyboard runs, dates, repeats, the user's own email), and, with
PWNED_PASSWORDS=1, not in a known breach (`breaches`). Passwords set before this rule
(8 characters were enough) still log in; the rule applies when one is chosen.
"""

from collections.abc import Iterable

from flask import current_app, has_app_context
from flask_babel import gettext as _
from zxcvbn import zxcvbn

from . import breaches


def N_(message: str) -> str:
    """Mark `message` for extraction; it is translated where it is shown."""
    return message


#: Shortest and longest password accepted (the longest bounds the hashing work).
MIN_LENGTH = 12
MAX_LENGTH = 128
#: zxcvbn's score from 0 to 4 a new password needs: 3 means about 10^8 guesses or more,
#: beyond an online attacker and slow against a stolen scrypt hash.
MIN_SCORE = 3
#: zxcvbn's work grows faster than the length (0.7 s at 128 characters, 60 ms at 64): the
#: first 64 characters are what it judges.
ESTIMATED_LENGTH = 64
#: Words of this shop a customer might build a password from.
SHOP_WORDS = ("northside", "roastery", "coffee")


def problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """What is wrong with `password` as a new password, in words for its owner; None if fine.

    `user_inputs` are the owner's own details (their email), which a password must not
    be built from.
    """
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return _("Use %(low)d to %(high)d characters.", low=MIN_LENGTH, high=MAX_LENGTH)
    weakness = guessable(password, user_inputs)
    if weakness:
        return weakness
    if breach_check_on() and breaches.is_breached(
        password, current_app.config["PWNED_PASSWORDS_API"]
    ):
        return _("This password has appeared in a data breach; choose another one.")
    return None


#: zxcvbn's warnings, listed so that `make translations` finds them (zxcvbn says them in
#: English; the customer reads them in their language).
ZXCVBN_WARNINGS = (
    N_("A word by itself is easy to guess."),
    N_("Common names and surnames are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Recent years are easy to guess."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Short keyboard patterns are easy to guess."),
    N_("Straight rows of keys are easy to guess."),
    N_("This is a top-10 common password."),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("This is similar to a commonly used password."),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
)


def breach_check_on() -> bool:
    """Whether PWNED_PASSWORDS=1 asks for the breach check (never outside an app)."""
    return has_app_context() and bool(current_app.config.get("PWNED_PASSWORDS"))


def guessable(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """zxcvbn's verdict in words when `password` is too easy to guess; None if it is not."""
    words = [*SHOP_WORDS]
    for value in user_inputs:
        if value:
            words += [value, *value.replace("@", " ").replace(".", " ").split()]
    estimate = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=words, max_length=ESTIMATED_LENGTH)
    if estimate["score"] >= MIN_SCORE:
        return None
    warning = estimate["feedback"]["warning"]
    advice = _("Choose one harder to guess, such as a few unrelated words.")
    if warning:
        return f"{_(warning)} {advice}"
    too_easy = _("This password is too easy to guess.")
    return f"{too_easy} {advice}"
