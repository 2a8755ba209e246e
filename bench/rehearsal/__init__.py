"""`make rehearsal`: a sale day on loopback (two dynos, the worker, Locust customers, a
SIGKILL halfway), then the books reconciled from the database, the emulator and the mail.

Run it as `python -m bench.rehearsal` from the repository root (see `__main__.py`).
"""
