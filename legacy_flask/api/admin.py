"""`/admin` JSON endpoints, as MVidarr's src/api/admin_interface.py (filled in by its owner)."""

from flask import Blueprint

bp = Blueprint("admin", __name__)
