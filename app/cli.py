"""The `gradplay` command: `gradplay serve --host 127.0.0.1 --port 8000`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from app.main import create_app
from app.settings import Settings

log = logging.getLogger("gradplay")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="gradplay", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: only this machine; use 0.0.0.0 to "
        "let a classroom reach it)",
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="how much to log (default info: start-up and rejected requests)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.info("gradplay serving on http://%s:%d", args.host, args.port)
    uvicorn.run(
        create_app(Settings()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
    )
