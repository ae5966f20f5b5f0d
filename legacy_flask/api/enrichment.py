"""Metadata enrichment, as MVidarr's src/api/metadata_enrichment.py (filled in by its owner)."""

from flask import Blueprint

bp = Blueprint("enrichment", __name__)
