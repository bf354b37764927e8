"""Crawls dispatched to Scrapyd nodes (issue 18), when RADAR_SCRAPYD_URLS lists them.

A node runs the project's spider ``radar`` (crawler/scrapy_project.py; deploy/scrapyd.conf
names the project) and stores to the same database as the daemon. So the daemon only picks
the least busy node, asks it to crawl, waits until the job has finished there, and reads the
run the node recorded in crawl_runs — the same outcome a local child process gives.

Scrapyd's JSON API, over urllib with a timeout on every call: ``daemonstatus.json`` (pending
+ running = how busy a node is), ``schedule.json``, ``listjobs.json``, ``cancel.json``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

from common.settings import Settings
from storage import queries
from storage.db import transaction
from storage.models import RUN_COUNTERS, CrawlRun

log = logging.getLogger(__name__)
PROJECT = "radar"  # the project's name in the [settings] section of deploy/scrapyd.conf
SPIDER = "radar"
SETTINGS_MODULE = "crawler.scrapy_project"  # a node's SCRAPY_SETTINGS_MODULE (deploy/scrapyd.conf)
REQUEST_TIMEOUT = 10.0  # seconds for one API call
# schedule.json answers once the node has listed the project's spiders — on its first call, in
# a child process paying Python's and Scrapy's start-up: seconds, more on a loaded machine.
SCHEDULE_TIMEOUT = 90.0
JOB_TIMEOUT = 6 * 3600.0  # as long as a local crawl may run
NODE_LOST_AFTER = 120.0  # a node unanswering this long while it runs our job: the job is given up
# Choosing a node and scheduling on it happen under one lock, so crawls started together see
# each other's jobs in daemonstatus.json and spread over the nodes instead of piling on one.
_dispatching = threading.Lock()


class NodeError(Exception):
    """A Scrapyd node did not answer, or refused."""


@dataclass(frozen=True)
class Job:
    node: str
    id: str


def call(node: str, endpoint: str, query: dict[str, str] | None = None, form: dict[str, str] | None = None,
         timeout: float = REQUEST_TIMEOUT) -> dict:
    """One API call (a POST when ``form`` is given); raises NodeError naming the node and the reason."""
    address = f"{node}/{endpoint}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(address, data=body, timeout=timeout) as answer:
            reply = json.loads(answer.read())
    except (OSError, ValueError) as error:  # unreachable, HTTP error, timeout (all OSError), or not JSON
        raise NodeError(f"{address}: {error}") from error
    if not isinstance(reply, dict) or reply.get("status") != "ok":
        message = reply.get("message") if isinstance(reply, dict) else reply
        raise NodeError(f"{address}: {message}")
    return reply


def nodes_by_load(nodes: list[str]) -> tuple[list[str], list[str]]:
    """The reachable nodes, least busy (pending + running jobs) first, ties in listed order;
    and why each unreachable one was skipped."""
    loads: dict[str, int] = {}
    skipped = []
    for node in nodes:
        try:
            status = call(node, "daemonstatus.json")
            loads[node] = int(status["pending"]) + int(status["running"])
        except (NodeError, KeyError, TypeError, ValueError) as error:
            skipped.append(str(error))
    return sorted(loads, key=loads.__getitem__), skipped


def dispatch(nodes: list[str], source: str) -> Job | None:
    """Schedule a crawl of ``source`` on the least busy node that accepts it; None when none does."""
    with _dispatching:
        ranked, skipped = nodes_by_load(nodes)
        for node in ranked:
            try:
                form = {"project": PROJECT, "spider": SPIDER, "source": source}
                reply = call(node, "schedule.json", form=form, timeout=SCHEDULE_TIMEOUT)
            except NodeError as error:
                skipped.append(str(error))
                continue
            for reason in skipped:
                log.warning("crawl %s: Scrapyd node skipped: %s", source, reason)
            return Job(node, str(reply["jobid"]))
    log.error("crawl %s: failed — no Scrapyd node took it (RADAR_SCRAPYD_URLS): %s", source, "; ".join(skipped) or "none listed")
    return None


def job_state(node: str, job_id: str) -> str | None:
    """pending, running or finished — or None when the node does not know the job (restarted)."""
    jobs = call(node, "listjobs.json", query={"project": PROJECT})
    for state in ("pending", "running", "finished"):
        if any(entry.get("id") == job_id for entry in jobs.get(state, [])):
            return state
    return None


def wait_for(job: Job, poll_seconds: float, stopping: threading.Event, timeout: float = JOB_TIMEOUT) -> str:
    """Poll the node until the job is done: "finished", "lost" (node gone or restarted),
    "timeout" (cancelled) or "interrupted" (the daemon is stopping; the node crawls on)."""
    deadline = time.monotonic() + timeout
    last_answer = time.monotonic()
    while not stopping.wait(poll_seconds):
        try:
            state = job_state(job.node, job.id)
        except NodeError as error:
            if time.monotonic() - last_answer > NODE_LOST_AFTER:
                log.warning("Scrapyd job %s: node silent for %.0f s: %s", job.id, NODE_LOST_AFTER, error)
                return "lost"
            continue
        last_answer = time.monotonic()
        if state in ("finished", None):
            return "finished" if state else "lost"
        if time.monotonic() > deadline:
            try:
                call(job.node, "cancel.json", form={"project": PROJECT, "job": job.id})
            except NodeError as error:
                log.warning("Scrapyd job %s: could not cancel: %s", job.id, error)
            return "timeout"
    return "interrupted"


def crawl_on_a_node(config: Settings, name: str, stopping: threading.Event) -> str:
    """Crawl ``name`` on a Scrapyd node; its run status like a local crawl's (ok/partial/failed/
    crashed), "failed" when no node is reachable, "interrupted" when the daemon stops meanwhile."""
    with transaction(config.effective_database_url) as session:
        before = queries.last_run_id(session, name)  # so an older run never stands for this one
    job = dispatch(config.scrapyd_nodes, name)
    if job is None:
        return "failed"
    log.info("crawl %s: job %s on %s", name, job.id, job.node)
    ending = wait_for(job, config.scrapyd_poll_seconds, stopping)
    if ending == "interrupted":
        log.info("crawl %s: the daemon stops; job %s goes on at %s and records its own run", name, job.id, job.node)
        return "interrupted"
    with transaction(config.effective_database_url) as session:
        run = queries.run_after(session, name, before)
    # A run still "running" belongs to a job that was lost or cancelled: it ended unrecorded.
    status = run.status if run is not None and run.status != "running" else "crashed"
    _log_run(name, job, ending, status, run)
    return status


def _log_run(name: str, job: Job, ending: str, status: str, run: CrawlRun | None) -> None:
    """The one line per crawl, as for a local crawl, from the run the node recorded."""
    counters = {counter: getattr(run, counter) or 0 for counter in RUN_COUNTERS} if run else {}
    facts = ", ".join(f"{value} {counter.replace('_', ' ')}" for counter, value in counters.items()) or "no run recorded"
    log.info("crawl %s: %s on %s (job %s %s) — %s", name, status, job.node, job.id, ending, facts,
             extra={"radar": {"event": "crawl_run", "source": name, "status": status, "node": job.node, "job": job.id, **counters}})
