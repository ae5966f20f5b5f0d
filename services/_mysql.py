"""MariaDB through asyncmy (the default) or aiomysql, at one round trip per read.

SQLAlchemy's stock pool and session spend four round trips on a one-SELECT request: a ping at
checkout (`pool_pre_ping`), the SELECT, the COMMIT that ends the session's transaction and the
ROLLBACK that resets the connection as it returns to the pool. Each costs a send, a wake-up of
the server and a wake-up of the event loop; on the videos list they were three quarters of the
database traffic. Here:

- COMMIT and ROLLBACK are sent only when the server says a transaction is open. Every MySQL
  OK/EOF packet carries the server's status flags, and `SERVER_STATUS_IN_TRANS` is set from
  the first statement of a transaction until its end, so the driver knows without asking
  (`get_transaction_status()`, both drivers). A ROLLBACK after a COMMIT, or after an
  autocommitted statement, would change nothing on the server.
- Read-only requests use connections in autocommit mode (`services.db`): a SELECT then opens
  no transaction, so neither COMMIT nor ROLLBACK follows it, and it never holds a snapshot
  open between requests.
- The checkout ping is replaced by `ping_when_idle`: a connection is pinged only when it has
  sat in the pool for longer than `idle_seconds`. A connection in use a moment ago is alive
  (and if the server went away since, the failed statement invalidates the whole pool, as
  before); one that idled across a server restart is caught by its ping and replaced.

The engine gets the adapted DBAPI module through `create_async_engine(..., module=...)`, the
same SQLAlchemy hook `services/_sqlite.py` uses.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.dialects.mysql.aiomysql import AsyncAdapt_aiomysql_connection, AsyncAdapt_aiomysql_dbapi
from sqlalchemy.dialects.mysql.asyncmy import AsyncAdapt_asyncmy_connection, AsyncAdapt_asyncmy_dbapi
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_

DRIVERS = ("asyncmy", "aiomysql")
_IDLE_SINCE = "figway_idle_since"


def _in_transaction(connection: Any) -> bool:
    return bool(connection.get_transaction_status())


class AsyncmyConnection(AsyncAdapt_asyncmy_connection):
    __slots__ = ()

    def commit(self) -> None:
        if _in_transaction(self._connection):
            super().commit()

    def rollback(self) -> None:
        if _in_transaction(self._connection):
            super().rollback()


class AiomysqlConnection(AsyncAdapt_aiomysql_connection):
    __slots__ = ()

    def commit(self) -> None:
        if _in_transaction(self._connection):
            super().commit()

    def rollback(self) -> None:
        if _in_transaction(self._connection):
            super().rollback()


class AsyncmyDBAPI(AsyncAdapt_asyncmy_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncmyConnection:
        creator_fn = kw.pop("async_creator_fn", self.asyncmy.connect)
        connection: AsyncmyConnection = await_(AsyncmyConnection.create(self, creator_fn(*arg, **kw)))
        return connection


class AiomysqlDBAPI(AsyncAdapt_aiomysql_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AiomysqlConnection:
        creator_fn = kw.pop("async_creator_fn", self.aiomysql.connect)
        connection: AiomysqlConnection = await_(AiomysqlConnection.create(self, creator_fn(*arg, **kw)))
        return connection


def dbapi(driver: str) -> AsyncmyDBAPI | AiomysqlDBAPI:
    """The adapted DBAPI module of `driver` ("asyncmy" or "aiomysql")."""
    if driver == "asyncmy":
        import asyncmy

        return AsyncmyDBAPI(asyncmy)
    if driver == "aiomysql":
        import aiomysql
        import pymysql

        return AiomysqlDBAPI(aiomysql, pymysql)
    raise ValueError(f"unknown MySQL driver {driver!r}; expected one of {', '.join(DRIVERS)}")


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a connection at checkout only when it idled in the pool longer than `idle_seconds`
    (see the module docstring); a failed ping makes the pool replace it (DisconnectionError)."""

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            dbapi_connection.ping(False)
        except Exception as error:  # any failure: the pool retries with a new connection
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)
