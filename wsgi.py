"""WSGI entry point: `gunicorn wsgi:app`, and what `flask` finds by default."""

from shop import create_app

app = create_app()
