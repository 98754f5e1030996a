"""GET /readyz: 200 when the database answers and its schema is at the migrations' head, else 503
with the reason. /healthz stays the liveness check (the process and its database are usable)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.store import Store
from bot.store.engine import unusable
from bot.store.figures import schema_behind

log = logging.getLogger(__name__)


def not_ready_because(store: Store) -> str | None:
    """None when ready; else one line for the operator (never the database's password)."""
    try:
        return schema_behind(store)
    except DBAPIError as exc:
        return str(unusable(store.database_url, exc))
    except Exception as exc:
        return f"the database did not answer ({type(exc).__name__})"


def readyz_route(store: Store) -> Route:
    async def readyz(request: Request) -> Response:
        reason = await run_in_threadpool(not_ready_because, store)
        if reason is None:
            return JSONResponse({"ready": True})
        log.warning("not ready: %s", reason)
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)

    return Route("/readyz", readyz, methods=["GET"])
