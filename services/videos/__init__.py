"""`/api/videos`: list, search, get, create, update, status change, delete (legacy contract)."""
