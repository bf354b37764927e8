from crawler.cli import app

app(prog_name="crawl")
