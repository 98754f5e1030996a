"""GET /cc/oauth/callback: where Constant Contact sends the browser back, answered by a page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.connect.flow import CALLBACK_PATH, ConnectFlow, ConnectOutcome, ConnectResult
from bot.pages import (
    connect_error_page,
    connected_page,
    denied_page,
    invalid_state_page,
    replayed_page,
)

# The callback URL holds a code: never cache the page, never pass the URL on as a referrer.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}

_STATUS = {
    ConnectOutcome.CONNECTED: 200,
    ConnectOutcome.DENIED: 200,
    ConnectOutcome.INVALID_STATE: 400,
    ConnectOutcome.REPLAYED: 409,
    ConnectOutcome.ERROR: 502,
}


def result_page(result: ConnectResult) -> str:
    if result.outcome is ConnectOutcome.CONNECTED:
        return connected_page(result.account_name, result.workspace_id)
    if result.outcome is ConnectOutcome.DENIED:
        return denied_page()
    if result.outcome is ConnectOutcome.INVALID_STATE:
        return invalid_state_page()
    if result.outcome is ConnectOutcome.REPLAYED:
        return replayed_page()
    return connect_error_page(result.reason)


def connect_routes(flow: ConnectFlow) -> list[Route]:
    # A sync endpoint: Starlette runs it in its thread pool (the flow does blocking I/O).
    def callback(request: Request) -> HTMLResponse:
        query = request.query_params
        result = flow.finish_connect(query.get("code"), query.get("state"), query.get("error"))
        return HTMLResponse(
            result_page(result), status_code=_STATUS[result.outcome], headers=SECURITY_HEADERS
        )

    return [Route(CALLBACK_PATH, callback, methods=["GET"])]
