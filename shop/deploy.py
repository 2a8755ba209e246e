"""What running behind a PaaS router needs: request ids and logs.

The WSGI layers, outermost first: the request log tags the request with its id and logs
one line; Flask answers.
"""

from flask import Flask

from . import logs


def init_app(app: Flask) -> None:
    """Install logging and the request log."""
    logs.configure(app)
    app.wsgi_app = logs.RequestLogMiddleware(app.wsgi_app)
