"""The editors' judgement, without Scrapy or the daemon: is an item new, covered, a duplicate or
a follow-up (verdicts, similarity), which sections and categories it belongs to (tagging), what
past report issues cited (issues), and the archive's export and import. Imports storage and
common only."""
