"""The application shell: the `crawl` command (radar/cli/, one module per command group) and
logging. The top layer: it may import everything, and nothing imports it."""
