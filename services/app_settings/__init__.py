"""`/api/settings`: the key/value settings store (legacy contract), and the services' cache of it."""
