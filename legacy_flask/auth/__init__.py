"""Multi-user session auth, as MVidarr's src/api/auth.py + src/services/auth_service.py."""

from legacy_flask.auth.decorators import (
    admin_required,
    current_user,
    login_required,
    manager_required,
    role_required,
)

__all__ = ["admin_required", "current_user", "login_required", "manager_required", "role_required"]
