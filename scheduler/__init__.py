"""The daemon and its jobs, the outbox and Apprise delivery, the digest and the candidates every
editor view is built from, /metrics, and the editor workspace (web/)."""
