"""The `gradplay` command: `gradplay serve --host 127.0.0.1 --port 8000 --db gradplay.sqlite3`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from app.main import create_app
from app.settings import Settings, default_database_url, default_db_path

log = logging.getLogger("gradplay")


def count(text: str) -> int:
    """A whole number of 0 or more, for options that count things."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


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
    serve.add_argument(
        "--db",
        type=Path,
        default=default_db_path(),
        metavar="PATH",
        help="SQLite file for shared graphs, created on first run (default $GRADPLAY_DB or "
        "./gradplay.sqlite3)",
    )
    serve.add_argument(
        "--database-url",
        default=default_database_url(),
        metavar="URL",
        help="store shared graphs in PostgreSQL instead, e.g. postgresql://user:pw@host/db, "
        "so several instances can share them (default $GRADPLAY_DATABASE_URL)",
    )
    serve.add_argument(
        "--saves-per-minute",
        type=count,
        default=Settings.saves_per_minute,
        metavar="N",
        help=f"graphs one client address may save per minute (default "
        f"{Settings.saves_per_minute}; 0 for no limit)",
    )
    serve.add_argument(
        "--cache-entries",
        type=count,
        default=Settings.evaluate_cache_entries,
        metavar="N",
        help=f"entries each of /api/evaluate's caches keeps (default "
        f"{Settings.evaluate_cache_entries}; 0 turns them off)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.info("gradplay serving on http://%s:%d", args.host, args.port)
    uvicorn.run(
        create_app(
            Settings(
                db_path=args.db,
                database_url=args.database_url,
                saves_per_minute=args.saves_per_minute,
                evaluate_cache_entries=args.cache_entries,
            )
        ),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
    )


if __name__ == "__main__":
    main()
