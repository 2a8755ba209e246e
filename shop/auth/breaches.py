"""The optional breached-password check (PWNED_PASSWORDS=1): Have I Been Pwned's
Pwned Passwords range API, with k-anonymity (only the first 5 hex digits of the password's
SHA-1 leave the shop) and padded answers. It fails open: when the service cannot be
reached the password is judged by the offline rule alone, and a warning is logged."""

import hashlib
import logging

import requests

log = logging.getLogger(__name__)

#: Seconds to wait for the service: a sign-up must not hang on it.
TIMEOUT = 3


def is_breached(password: str, api: str) -> bool:
    """Whether `password` appears in the breach corpus; False when the service is away."""
    digest = hashlib.sha1(password.encode("utf-8", "surrogatepass")).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    try:
        answer = requests.get(
            f"{api.rstrip('/')}/range/{prefix}",
            headers={"Add-Padding": "true", "User-Agent": "northside-roastery-shop"},
            timeout=TIMEOUT,
        )
        answer.raise_for_status()
    except requests.RequestException as error:
        log.warning("pwned passwords unreachable (%s): password checked offline only", error)
        return False
    for line in answer.text.splitlines():
        candidate, _, count = line.strip().partition(":")
        # Padding lines carry a count of 0: they are not breaches.
        if candidate == suffix and count.strip().isdigit() and int(count) > 0:
            return True
    return False
