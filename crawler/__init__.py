"""Crawling: spiders, extraction, item pipeline, and the fake internet used by demo and tests."""
