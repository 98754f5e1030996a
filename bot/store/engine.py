"""Engines for SQLite and PostgreSQL (psycopg 3), and the alembic upgrade."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

IMMEDIATE = "sqlite_begin_immediate"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseUnusable(Exception):
    """The database cannot be used as configured: one line for the operator, naming it."""


def _parsed(database_url: str) -> URL:
    try:
        url = make_url(normalize_url(database_url))
    except ArgumentError:
        raise DatabaseUnusable(
            "DATABASE_URL is not a database URL; use sqlite:///path/to/cctag.db or "
            "postgresql://user@host/dbname"
        ) from None
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseUnusable(
            f"DATABASE_URL names {url.get_backend_name()!r}, which cctag does not support; "
            "use sqlite:/// or postgresql://"
        )
    return url


def unusable(database_url: str, error: DBAPIError) -> DatabaseUnusable:
    """The operator's one line for a database that refused to open or answer."""
    cause = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() == "sqlite":
        return DatabaseUnusable(
            f"cannot open the SQLite database {url.database!r} ({cause}): is its folder there "
            "and writable?"
        )
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
    return DatabaseUnusable(f"cannot reach PostgreSQL at {where}: {cause}")


def normalize_url(database_url: str) -> str:
    """`postgres://` and `postgresql://` use the psycopg 3 driver; anything else as given."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def make_engine(database_url: str) -> Engine:
    """An engine for a supported URL; DatabaseUnusable for any other."""
    url = _parsed(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.render_as_string(hide_password=False))
    # No pre-ping (a round trip per checkout); connections are recycled instead.
    try:
        return create_engine(url, pool_recycle=300, pool_size=5, max_overflow=10)
    except NoSuchModuleError:
        raise DatabaseUnusable(
            f"DATABASE_URL's driver {url.drivername!r} is not installed"
        ) from None


def _sqlite_engine(url: str) -> Engine:
    """SQLite shared by processes: WAL, a busy timeout, and BEGIN IMMEDIATE for writes.

    pysqlite's own transaction handling is switched off so that `begin` decides: writers
    take the write lock at BEGIN and so never deadlock upgrading a read lock.
    """
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "bot:migrations")
    return config


# Any constant shared by every cctag process: the key of the upgrade's advisory lock.
UPGRADE_LOCK_KEY = 0x63637461  # "ccta"


def upgrade(engine: Engine) -> None:
    """alembic upgrade head, one process at a time.

    `cctag serve` and `cctag poll` start together: unserialized, both would find a new database
    empty and both create its tables, and all but one fail. The first takes the write lock
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), the others wait for it and then
    find the schema at head.
    """
    config = alembic_config()
    try:
        with engine.connect() as plain:
            connection = plain.execution_options(**{IMMEDIATE: True})
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    except OperationalError as exc:  # could not open, reach or write the database
        raise unusable(engine.url.render_as_string(hide_password=False), exc) from None
