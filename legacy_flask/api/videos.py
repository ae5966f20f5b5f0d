"""`/api/videos`, as MVidarr's src/api/videos.py."""

from flask import Blueprint

bp = Blueprint("videos", __name__)
