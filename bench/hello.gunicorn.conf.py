"""Gunicorn settings for the hello baseline: the shop's own settings, minus its database hook.

Workers, preload, timeouts, keep-alive and logging all come from the repository's
gunicorn.conf.py, so the two servers differ only in the application they run.
"""

import runpy
from pathlib import Path

_shop = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update(
    {
        name: value
        for name, value in _shop.items()
        # post_fork disposes the shop's database engine, which the hello app does not have.
        if not name.startswith("_") and name not in {"post_fork", "os", "sys"}
    }
)
