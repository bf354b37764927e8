from radar.cli import app

app(prog_name="crawl")
