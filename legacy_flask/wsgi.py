"""WSGI entry point for gunicorn (`gunicorn legacy_flask.wsgi:app`), like MVidarr's app.py `app`."""

from legacy_flask.app import create_app

app = create_app()
