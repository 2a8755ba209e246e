"""Finding Debian's Chromium for the browser tests: skip without it, fail if it is required.

`REQUIRE_BROWSER=1` (set by `.ci/run`) turns a missing browser into a failure, so CI can
never pass by skipping every browser test.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """The Chromium executable; skips the test when there is none (fails when required)."""
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)")
        pytest.skip(
            "chromium is not installed (apt-get install chromium); REQUIRE_BROWSER=1 fails instead"
        )
    return CHROMIUM
