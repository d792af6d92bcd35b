"""Storage of shared graphs: a SQLite file by default, PostgreSQL when given a URL.

Two tables: `graphs` (id, hash of the edit token, number of the latest revision) and
`revisions` (every saved version of a graph, as the JSON text that was sent). An overwrite adds
a revision, so no save ever loses an earlier one. The schema carries a version number and is
moved forward at start-up by MIGRATIONS, in order.

Calls block: routes run them in the thread pool.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from app.errors import ApiError
from app.settings import Settings

log = logging.getLogger(__name__)

# 16 random bytes = 128 bits: an id can be shared but not guessed or enumerated.
ID_BYTES = 16
TOKEN_BYTES = 32
# Any fixed number: PostgreSQL instances starting together take turns on this lock.
MIGRATION_LOCK_KEY = 0x67726164

metadata = sa.MetaData()

graphs = sa.Table(
    "graphs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("graph_id", sa.String(64), sa.ForeignKey("graphs.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("saved_at", sa.String(40), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)


def _create_graphs_and_revisions(conn: sa.Connection) -> None:
    # Written out rather than taken from the Table objects above: a migration is history and
    # must not change when the current tables do.
    conn.exec_driver_sql(
        "CREATE TABLE graphs ("
        " id VARCHAR(64) PRIMARY KEY,"
        " token_hash VARCHAR(64) NOT NULL,"
        " revision INTEGER NOT NULL,"
        " created_at VARCHAR(40) NOT NULL)"
    )
    conn.exec_driver_sql(
        "CREATE TABLE revisions ("
        " graph_id VARCHAR(64) NOT NULL REFERENCES graphs (id),"
        " number INTEGER NOT NULL,"
        " saved_at VARCHAR(40) NOT NULL,"
        " title TEXT NOT NULL,"
        " document TEXT NOT NULL,"
        " PRIMARY KEY (graph_id, number))"
    )


# Append only: migration n moves the schema from version n - 1 to version n.
MIGRATIONS: list[Callable[[sa.Connection], None]] = [_create_graphs_and_revisions]


class GraphNotFound(ApiError):
    """No saved graph has this id (or it was deleted)."""

    def __init__(self, graph_id: str) -> None:
        super().__init__(
            404, "graph_not_found", f"there is no saved graph with the id {graph_id[:64]!r}"
        )


class RevisionNotFound(ApiError):
    """The graph exists but has no revision with this number."""

    def __init__(self, graph_id: str, number: int, latest: int) -> None:
        super().__init__(
            404,
            "revision_not_found",
            f"the graph {graph_id[:64]!r} has revisions 1 to {latest}, not {number}",
        )


class EditForbidden(ApiError):
    """A change to a saved graph without its edit token, or with a wrong one."""

    def __init__(self, token_given: bool) -> None:
        if token_given:
            code, message = "wrong_edit_token", "this edit token does not belong to the graph"
        else:
            code, message = (
                "edit_token_required",
                "changing a saved graph needs its edit token, sent as "
                "'Authorization: Bearer <token>' or 'X-Edit-Token: <token>'",
            )
        super().__init__(403, code, message)


@dataclass(frozen=True)
class Revision:
    """One saved version of a graph; `document` is the JSON text exactly as stored."""

    graph_id: str
    number: int
    saved_at: str
    title: str
    document: str
    created_at: str


def hash_token(token: str) -> str:
    """The stored form of an edit token: a random 256-bit token needs no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def database_url(settings: Settings) -> sa.URL:
    """The database the settings name: the PostgreSQL URL if given, else the SQLite file."""
    if not settings.database_url:
        return sa.URL.create("sqlite", database=str(Path(settings.db_path).resolve()))

    url = sa.make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # A plain postgresql:// URL would pick psycopg2; this project ships psycopg 3.
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url
    raise ValueError(f"shared graphs are stored in SQLite or PostgreSQL, not {backend!r}")


def describe(url: sa.URL) -> str:
    """The database for a log line, without any password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    safe = url.difference_update_query(["password"])
    return f"PostgreSQL {safe.render_as_string(hide_password=True)}"


class GraphStore:
    """Saved graphs and all their revisions in one database."""

    def __init__(self, url: sa.URL, max_revisions: int = 1_000) -> None:
        self.url = url
        self.name = describe(url)
        self.max_revisions = max_revisions
        self.engine = _create_engine(url)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def migrate(self) -> int:
        """Bring the schema up to date; return its version."""
        with self._writing() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            version = _schema_version(conn)

            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"the database schema is version {version}, newer than this gradplay "
                    f"knows ({len(MIGRATIONS)}); upgrade gradplay"
                )
            for number in range(version + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[number - 1](conn)
                log.info("database schema migrated to version %d", number)
            conn.execute(sa.text("UPDATE schema_version SET version = :v"), {"v": len(MIGRATIONS)})
        return len(MIGRATIONS)

    def create(self, document: str, title: str) -> tuple[Revision, str]:
        """Save a new graph as revision 1; return it with the edit token (shown only now)."""
        graph_id = secrets.token_urlsafe(ID_BYTES)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = _now()

        with self._writing() as conn:
            conn.execute(
                graphs.insert().values(
                    id=graph_id, token_hash=hash_token(token), revision=1, created_at=now
                )
            )
            conn.execute(
                revisions.insert().values(
                    graph_id=graph_id, number=1, saved_at=now, title=title, document=document
                )
            )
        return Revision(graph_id, 1, now, title, document, now), token

    def latest(self, graph_id: str) -> Revision:
        """The newest revision of a graph."""
        with self._reading() as conn:
            graph = _graph_row(conn, graph_id)
            return _revision(conn, graph, graph.revision)

    def revision(self, graph_id: str, number: int) -> Revision:
        """One revision of a graph, by number (1 is the first save)."""
        with self._reading() as conn:
            graph = _graph_row(conn, graph_id)
            if not 1 <= number <= graph.revision:
                raise RevisionNotFound(graph_id, number, graph.revision)
            return _revision(conn, graph, number)

    def revisions(self, graph_id: str) -> list[dict]:
        """Number, time and title of every revision, oldest first."""
        query = (
            sa.select(revisions.c.number, revisions.c.saved_at, revisions.c.title)
            .where(revisions.c.graph_id == graph_id)
            .order_by(revisions.c.number)
        )
        with self._reading() as conn:
            _graph_row(conn, graph_id)
            return [dict(row._mapping) for row in conn.execute(query)]

    def authorize(self, graph_id: str, token: str | None) -> None:
        """Raise unless the graph exists and the token is its edit token."""
        with self._reading() as conn:
            _check_token(_graph_row(conn, graph_id), token)

    def update(self, graph_id: str, token: str | None, document: str, title: str) -> Revision:
        """Save a new revision of a graph; the earlier ones stay."""
        now = _now()
        with self._writing() as conn:
            graph = _owned_graph_row(conn, graph_id, token)
            if graph.revision >= self.max_revisions:
                raise ApiError(
                    413,
                    "limit_exceeded",
                    f"this graph already has {graph.revision:,} revisions, the most one saved "
                    "graph keeps; save your work as a new graph",
                    # One more revision was asked for than the graph may keep.
                    details={
                        "what": "revisions",
                        "limit": self.max_revisions,
                        "actual": graph.revision + 1,
                    },
                )

            number = graph.revision + 1
            conn.execute(graphs.update().where(graphs.c.id == graph_id).values(revision=number))
            conn.execute(
                revisions.insert().values(
                    graph_id=graph_id, number=number, saved_at=now, title=title, document=document
                )
            )
        return Revision(graph_id, number, now, title, document, graph.created_at)

    def delete(self, graph_id: str, token: str | None) -> None:
        """Remove a graph and all its revisions."""
        with self._writing() as conn:
            _owned_graph_row(conn, graph_id, token)
            conn.execute(revisions.delete().where(revisions.c.graph_id == graph_id))
            conn.execute(graphs.delete().where(graphs.c.id == graph_id))

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(gradplay_write=True)
            with conn.begin():
                yield conn


def open_store(settings: Settings) -> GraphStore:
    """Connect to the configured database, migrate it, and log which one it is."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)

    store = GraphStore(url, max_revisions=settings.max_revisions)
    try:
        version = store.migrate()
    except BaseException:
        store.close()
        raise
    log.info("shared graphs are stored in %s (schema version %d)", store.name, version)
    return store


def _create_engine(url: sa.URL) -> sa.Engine:
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=15)

    # pysqlite checks threads by default; the pool hands each connection to one thread at a
    # time. `timeout` is SQLite's busy timeout: a writer waits its turn instead of failing.
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=5,
        max_overflow=15,
    )
    sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection, _record) -> None:
    # pysqlite would only send BEGIN before the first write, so reads could see two states of
    # the file; this module sends BEGIN itself (_begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL at every commit: an acknowledged save survives a crash or power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite(conn: sa.Connection) -> None:
    # A writer takes the write lock at BEGIN, so two writers queue on the busy timeout instead
    # of one failing when it upgrades a read lock; readers never wait in WAL mode.
    write = conn.get_execution_options().get("gradplay_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _schema_version(conn: sa.Connection) -> int:
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    version = conn.execute(sa.text("SELECT version FROM schema_version")).scalar()
    if version is None:
        conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (0)"))
        return 0
    return version


def _graph_row(conn: sa.Connection, graph_id: str, lock: bool = False) -> sa.Row:
    query = sa.select(graphs).where(graphs.c.id == graph_id)
    if lock:
        # PostgreSQL: concurrent writers to one graph queue here, so revision numbers never
        # collide. SQLite already holds the write lock (BEGIN IMMEDIATE) and ignores this.
        query = query.with_for_update()
    graph = conn.execute(query).first()
    if graph is None:
        raise GraphNotFound(graph_id)
    return graph


def _owned_graph_row(conn: sa.Connection, graph_id: str, token: str | None) -> sa.Row:
    graph = _graph_row(conn, graph_id, lock=True)
    _check_token(graph, token)
    return graph


def _check_token(graph: sa.Row, token: str | None) -> None:
    if not token:
        raise EditForbidden(token_given=False)
    # Constant time, so response timing says nothing about how much of a guess was right.
    if not hmac.compare_digest(graph.token_hash, hash_token(token)):
        raise EditForbidden(token_given=True)


def _revision(conn: sa.Connection, graph: sa.Row, number: int) -> Revision:
    query = sa.select(revisions).where(
        revisions.c.graph_id == graph.id, revisions.c.number == number
    )
    row = conn.execute(query).first()
    if row is None:
        # Deleted between reading the graph and its revision (PostgreSQL reads committed rows).
        raise GraphNotFound(graph.id)
    return Revision(graph.id, row.number, row.saved_at, row.title, row.document, graph.created_at)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
