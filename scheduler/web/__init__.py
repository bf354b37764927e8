"""The editor workspace (`crawl web`): review candidates, triage them, draft the weekly issue."""

from scheduler.web.app import create_app

__all__ = ["create_app"]
