"""`/api/playlists`, as MVidarr's src/api/playlists.py."""

from flask import Blueprint

bp = Blueprint("playlists", __name__)
