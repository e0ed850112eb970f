"""`python -m gateway.cli`: the `crossforce` command without its console script."""

from gateway.cli import app

app()
