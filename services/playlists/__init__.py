"""`/api/playlists`: user playlists with entries, owner/admin/manager permissions (legacy contract)."""
