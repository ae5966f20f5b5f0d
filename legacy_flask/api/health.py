"""`/api/health` endpoints, as MVidarr's src/api/health.py (filled in by its owner)."""

from flask import Blueprint

bp = Blueprint("health", __name__)
