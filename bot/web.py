"""The web app: POST /slack/events (bolt, signature verified) and GET /healthz."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.store import Store
from bot.web_door import Refusal, signed_body

log = logging.getLogger(__name__)


def create_web_app(
    bolt_app: App,
    store: Store,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    slack_events: bool = True,
    signing_secret: str | None = None,
) -> Starlette:
    """`slack_events` False (Socket Mode): Slack's requests come over the socket, and an
    HTTP `/slack/events` would only be a door with no signing secret behind it.
    `signing_secret`: requests are verified here, before their body is parsed (bot/web_door.py);
    None leaves it to bolt alone."""

    async def events(request: Request) -> Response:
        if signing_secret is None:
            body = await request.body()
        else:
            try:
                body = await signed_body(request, signing_secret)
            except Refusal as refused:
                return refused.response
        # bolt's sync App blocks until the listener acks: run it off the event loop, so one
        # slow request never holds up the others.
        try:
            bolt_request = to_bolt_request(request, body)
            bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        except Exception as exc:  # a signed body of a shape bolt does not expect
            log.warning("unreadable request on /slack/events: %r", exc)
            return PlainTextResponse("unreadable request", status_code=400)
        return to_starlette_response(bolt_response)

    async def healthz(request: Request) -> Response:
        healthy = await run_in_threadpool(store.healthy)
        status = 200 if healthy else 503
        return JSONResponse({"ok": healthy, "database": healthy}, status_code=status)

    routes: list[BaseRoute] = [
        *([Route("/slack/events", events, methods=["POST"])] if slack_events else []),
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
    ]
    return Starlette(routes=routes)
