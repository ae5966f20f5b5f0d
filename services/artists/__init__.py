"""`/api/artists`: list with filters and `video_count`, get, create, update, delete (legacy contract)."""
