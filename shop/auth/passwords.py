"""The one password rule, for the sign-up form and `flask create-admin` alike."""

#: Shortest and longest password accepted (the longest bounds the hashing work).
MIN_LENGTH = 8
MAX_LENGTH = 128


def problem(password: str) -> str | None:
    """What is wrong with `password` as a new password, in words for its owner; None if fine."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"Use {MIN_LENGTH} to {MAX_LENGTH} characters."
    return None
