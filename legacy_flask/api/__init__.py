"""The `/api` blueprints, as MVidarr's src/api/routes.py wires them."""
