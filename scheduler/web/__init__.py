"""The editor workspace (`crawl web`): review candidates, triage them, draft the weekly issue.

``create_app`` lives in :mod:`scheduler.web.app`; it is not imported here so that the `crawl`
command (which registers `crawl web` from :mod:`radar.cli.workspace`) does not load Flask
on every start — crawl children and health checks start many times a day.
"""


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    from scheduler.web.app import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app"]
