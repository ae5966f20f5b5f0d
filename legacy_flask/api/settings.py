"""`/api/settings`, as MVidarr's src/api/settings.py."""

from flask import Blueprint

bp = Blueprint("settings", __name__)
