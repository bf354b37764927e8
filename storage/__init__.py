"""Persistence: models, migrations and the queries the rest of cnst-radar uses."""
