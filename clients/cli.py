"""The `crossforce` command line."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Crossforce regional hub")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Run the gateway; the graph comes from CROSSFORCE_GRAPH_URI, embedded when unset."""
    import uvicorn

    from gateway.app import create_app
    from gateway.config import Settings

    settings = Settings()
    if settings.public_url is None:
        settings.public_url = f"http://{host}:{port}"
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def demo(
    keep_serving: bool | None = typer.Option(
        None, "--serve/--exit", help="keep the hub running afterwards (default: when interactive)"
    ),
    port: int | None = typer.Option(None, help="port for the hub (default: a free one)"),
) -> None:
    """What `make demo` runs: start the hub, sync a synthetic region, print where to look."""
    from clients.demo import run_demo

    run_demo(keep_serving, port)


if __name__ == "__main__":
    app()
