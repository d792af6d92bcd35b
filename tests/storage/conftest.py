"""Databases for the storage tests: a SQLite file, and a throwaway PostgreSQL server.

The PostgreSQL server is Debian's (`apt-get install postgresql`), started with initdb/pg_ctl
in a temporary folder on a free 127.0.0.1 port, as the `postgres` user when the tests run as
root (initdb refuses root), and removed afterwards. In CI (env CI set) a missing PostgreSQL
fails the tests; elsewhere they skip with the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BINARIES = Path("/usr/lib/postgresql")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unavailable(reason: str) -> None:
    """Fail in CI, where PostgreSQL must be there; skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run: {reason}")
    pytest.skip(reason)


@dataclass
class PostgresServer:
    """A running throwaway server; each test gets a database of its own."""

    port: int

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def _postgres_bin() -> Path | None:
    versions = [p.parent for p in POSTGRES_BINARIES.glob("*/bin/initdb")]
    versions.sort(
        key=lambda bin_dir: int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0
    )
    return versions[-1] if versions else None


def _as_postgres_user(folder: Path) -> list[str]:
    """The command prefix that runs a server binary as a non-root user, if we are root."""
    if os.geteuid() != 0:
        return []
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        unavailable("running as root and there is no 'postgres' user to run initdb as")
    if shutil.which("runuser") is None:
        unavailable("running as root and `runuser` is missing")
    os.chown(folder, account.pw_uid, account.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def _run(command: list, log: Path, timeout: float) -> None:
    with log.open("ab") as output:
        done = subprocess.run(command, stdout=output, stderr=output, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        unavailable(f"no PostgreSQL server under {POSTGRES_BINARIES} (apt-get install postgresql)")

    folder = Path(tempfile.mkdtemp(prefix="gradplay-pg-"))
    try:
        prefix = _as_postgres_user(folder)
        data, log, port = folder / "data", folder / "setup.log", free_port()
        _run(
            [*prefix, bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C"],
            log,
            timeout=120,
        )  # fmt: skip
        # The socket lives in the temporary folder, never in the system's /var/run/postgresql.
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [*prefix, bin_dir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w",
             "-t", "60", "-o", options, "start"],
            log,
            timeout=90,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    try:
        yield PostgresServer(port)
    finally:
        stop = [*prefix, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
        subprocess.run(stop, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A SQLAlchemy URL of an empty database, once for each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'graphs.sqlite3'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def server_options(request, tmp_path) -> list[str]:
    """`gradplay serve` options naming an empty database, once for each backend.

    These tests play many clients from one address, so the per-address save limit is off.
    """
    unlimited = ["--saves-per-minute", "0"]
    if request.param == "sqlite":
        return ["--db", str(tmp_path / "graphs.sqlite3"), *unlimited]
    database = request.getfixturevalue("postgres_server").new_database()
    return ["--database-url", database, *unlimited]


class AppServer:
    """`gradplay serve` in a subprocess on a free 127.0.0.1 port, as a user would start it."""

    def __init__(self, options: list[str], folder: Path) -> None:
        self.options = options
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    def start(self) -> AppServer:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADPLAY_")}
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *self.options]
        with self.log_path.open("ab") as log:
            # The working directory is the test's folder, so nothing is written into the repo.
            self.process = subprocess.Popen(
                command, stdout=log, stderr=log, cwd=self.folder, env=env
            )
        self._wait_until_ready()
        return self

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def _wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/ops", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()[-3000:]}")


@pytest.fixture
def app_server(tmp_path) -> Iterator:
    """A factory for app servers; every one started is stopped after the test."""
    servers: list[AppServer] = []

    def start(options: list[str]) -> AppServer:
        server = AppServer(options, tmp_path)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
