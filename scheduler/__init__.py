"""Scheduling: the daemon, digests and notifications."""
