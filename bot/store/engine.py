"""Engines for SQLite and PostgreSQL (psycopg 3), and the alembic upgrade."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

IMMEDIATE = "sqlite_begin_immediate"


def normalize_url(database_url: str) -> str:
    """`postgres://` and `postgresql://` use the psycopg 3 driver; anything else as given."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def make_engine(database_url: str) -> Engine:
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.render_as_string(hide_password=False))
    # No pre-ping (a round trip per checkout); connections are recycled instead.
    return create_engine(url, pool_recycle=300, pool_size=5, max_overflow=10)


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
    with engine.connect() as connection:
        connection = connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
