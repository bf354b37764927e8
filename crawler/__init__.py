"""Scrapy and what it needs: source kinds (kinds/), spiders, middlewares, pipelines, extensions,
extraction (extract/), the fetch guard, list detection, doctor, coverage of cited URLs, and the
fake internet used by demo and tests (replay.py, sites/)."""
