"""System commands without blocking the event loop, and the health/admin endpoints that use them."""
