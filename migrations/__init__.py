"""Alembic migrations; `hub.migrate` runs them programmatically."""
