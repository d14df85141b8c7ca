"""WSGI entry point: ``gunicorn wsgi:app`` (configuration from the environment)."""

from portal import create_app

app = create_app()
