"""Who is calling: `CurrentUserDep` / `OptionalUserDep` (see current_user.py)."""
