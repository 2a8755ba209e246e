"""`make bench`: the shop under gunicorn and wrk, next to a bare Flask hello app.

Run it as `python -m bench` from the repository root (see `bench/__main__.py`).
"""
