"""HTTP front: POST /slack/events into the bolt app, GET /healthz; or Socket Mode instead."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt import App, BoltRequest, BoltResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.store import Store

EVENTS_PATH = "/slack/events"


def _bolt_request(request: Request, body: bytes) -> BoltRequest:
    headers: dict[str, str | Sequence[str]] = {
        name.lower(): request.headers.getlist(name) for name in request.headers
    }
    return BoltRequest(body=body.decode("utf-8"), query=request.url.query, headers=headers)


def _response(bolt: BoltResponse) -> Response:
    response = Response(status_code=bolt.status, content=bolt.body)
    for name, values in bolt.headers.items():
        for value in values:
            if name.lower() != "content-length":
                response.headers.append(name, value)
    return response


def create_web_app(
    bolt_app: App, store: Store, *, extra_routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """`extra_routes`: more pages on the same server (OAuth install and callback pages)."""

    async def events(request: Request) -> Response:
        body = await request.body()
        # bolt's App is synchronous: dispatch in a worker thread, never on the event loop.
        answer = await run_in_threadpool(bolt_app.dispatch, _bolt_request(request, body))
        return _response(answer)

    async def healthz(request: Request) -> Response:
        database = await run_in_threadpool(store.healthy)
        status = 200 if database else 503
        return JSONResponse({"app": "ok", "database": "ok" if database else "down"}, status)

    routes: list[BaseRoute] = [
        Route(EVENTS_PATH, events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
    ]
    return Starlette(routes=routes)


def run_socket_mode(app: App, app_token: str) -> None:
    """Serve the same bolt app over Socket Mode (no public URL) until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
