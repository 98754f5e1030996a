"""Alembic migrations of the cctag database (script_location `bot:migrations`)."""
