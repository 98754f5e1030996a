"""One worker of `cctag serve --workers N`: uvicorn's supervisor starts each in a fresh process,
which builds its own parts from the environment and drains its own work pool when stopped.

The supervisor passes SIGTERM on to every worker; each stops taking requests, gives those in
flight `stopping.ack_grace` seconds, then its launches the rest of CCTAG_STOP_SECONDS.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from bot import wiring
from bot.ops import logs, stopping
from bot.settings import load_settings, secrets_of


def web_app() -> Starlette:
    settings = load_settings()
    logs.configure(logging.INFO, settings.cctag_log_format)
    logs.REDACT.add(secrets_of(settings))
    serving = wiring.build_serving(settings)
    stop_seconds = settings.cctag_stop_seconds
    left = stop_seconds - stopping.ack_grace(stop_seconds)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(stopping.finish, serving.pool, serving.close, left, stop_seconds)

    serving.web.router.lifespan_context = lifespan
    return serving.web
