"""`/api/artists`, as MVidarr's src/api/artists.py."""

from flask import Blueprint

bp = Blueprint("artists", __name__)
