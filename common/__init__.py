"""Small helpers every layer may use, and which import nothing else of ours: dates, durations
and China's time zone, text cleaning, URLs and host matching, settings, escaping for display,
and the file:line errors of watchlist YAML. (Layers: README, "Layout"; tests/test_layout.py.)"""
