"""Persistence, the ground floor: models, engine and sessions, Alembic migrations and the queries
the rest of cnst-radar uses. SQL only; it imports nothing of ours but common."""
