"""The sandbox as a Starlette app: V3 under /v3, OAuth2 under /oauth2/default/v1, controls under
/_sandbox.

Every /v3 request goes, in order: counted → armed fault → bearer token (401) → per-second
rate and daily quota of the token's API key (429) → JSON content type (415) and body (400) →
activities advanced → handler, under the state's lock.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.cc.models import ActivityKind
from bot.devkit.sandbox import api, campaigns, oauth
from bot.devkit.sandbox.faults import FaultRule, Faults
from bot.devkit.sandbox.state import SandboxError, SandboxState

UNAUTHORIZED = {"error_key": "unauthorized", "error_message": "Unauthorized"}
THROTTLED = {"error_key": "throttled", "error_message": "Too Many Requests"}
QUOTA_EXCEEDED = {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
JSON_METHODS = ("POST", "PUT", "PATCH")


def error_response(error: SandboxError) -> JSONResponse:
    """Auth and rate errors are one object; every other error is an array of them."""
    item = {"error_key": error.key, "error_message": error.message}
    single = error.status in (401, 429) and error.key in (
        "unauthorized",
        "throttled",
        "quota_exceeded",
    )
    return JSONResponse(item if single else [item], status_code=error.status)


def _fault_answer(rule: FaultRule) -> Response | None:
    if rule.kind == "throttle":
        return JSONResponse(THROTTLED, status_code=429)
    if rule.kind == "fail":
        phrase = HTTPStatus(rule.status).phrase
        item = {"error_key": "server.error", "error_message": phrase}
        return JSONResponse([item], status_code=rule.status)
    if rule.kind == "accepted":
        return JSONResponse({"contacts": [], "status": "processing"}, status_code=202)
    return None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class SandboxApp:
    """Request plumbing shared by the endpoints of one state and its faults."""

    def __init__(self, state: SandboxState, faults: Faults) -> None:
        self.state = state
        self.faults = faults

    async def _faulted(self, request: Request) -> tuple[Response | None, FaultRule | None]:
        self.state.count_request(request.method, request.url.path)
        rule = self.faults.take(request.method, request.url.path, request.url.query)
        if rule is None:
            return None, None
        if rule.kind == "delay":
            await asyncio.sleep(rule.seconds)
        return _fault_answer(rule), rule

    # ------------------------------------------------------------ /v3
    def v3(self, handler: api.Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            early, rule = await self._faulted(request)
            if early is not None:
                return early
            try:
                answer = await self._answer(request, handler)
            except SandboxError as error:
                answer = error_response(error)
            if rule is not None and rule.kind == "commit_then_delay":
                await asyncio.sleep(rule.seconds)
            return answer

        return endpoint

    async def _answer(self, request: Request, handler: api.Handler) -> Response:
        found = self.state.account_for_token(_bearer(request) or "")
        if found is None:
            raise SandboxError(401, "Unauthorized", "unauthorized")
        account, token = found
        key = f"api:{token.client_id}"
        if not self.state.take_rate(key, self.state.rate_per_second):
            raise SandboxError(429, "Too Many Requests", "throttled")
        if not self.state.take_daily(key):
            raise SandboxError(429, "Limit Exceeded", "quota_exceeded")
        body = await _json_body(request) if request.method in JSON_METHODS else None
        call = api.Call(
            state=self.state,
            account=account,
            path=request.url.path,
            query=dict(request.query_params),
            path_params=dict(request.path_params),
            body=body,
            scopes=frozenset(token.scope.split()),
        )
        with self.state.lock:
            self.state.advance()
            status, payload = handler(call)
        return JSONResponse(payload, status_code=status)

    # ------------------------------------------------------------ OAuth2
    async def authorize(self, request: Request) -> Response:
        early, _ = await self._faulted(request)
        if early is not None:
            return early
        try:
            with self.state.lock:
                redirect = oauth.authorize(self.state, dict(request.query_params))
        except oauth.AuthorizePageError as exc:
            return HTMLResponse(_page("Authorization refused", str(exc)), status_code=400)
        return RedirectResponse(redirect.location, status_code=302)

    async def token(self, request: Request) -> Response:
        early, rule = await self._faulted(request)
        if early is not None:
            return early
        answer = await self._token_answer(request)
        if rule is not None and rule.kind == "commit_then_delay":
            await asyncio.sleep(rule.seconds)
        return answer

    async def _token_answer(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        basic = oauth.parse_basic(request.headers.get("authorization"))
        if not self.state.take_rate(oauth.token_rate_key(form, basic), oauth.token_rate()):
            return JSONResponse(THROTTLED, status_code=429)
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            error = oauth.OAuthError(400, "invalid_request", "The body must be form-encoded")
            return JSONResponse(error.body(), status_code=400)
        try:
            with self.state.lock:
                body = oauth.token(self.state, form, basic)
        except oauth.OAuthError as error:
            return JSONResponse(error.body(), status_code=error.status)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ------------------------------------------------------------ /_sandbox controls
    async def arm_fault(self, request: Request) -> Response:
        try:
            spec = json.loads(await request.body())
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            self.faults.apply(spec)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"armed": [vars(r) for r in self.faults.pending()]})

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return JSONResponse({"armed": []})

    async def request_counts(self, request: Request) -> Response:
        with self.state.lock:
            counts = dict(self.state.requests)
        return JSONResponse({"requests": counts, "status_calls": self.state.status_calls()})

    async def not_found(self, request: Request) -> Response:
        self.state.count_request(request.method, request.url.path)
        return error_response(SandboxError(404, f"No endpoint {request.url.path}", "not.found"))


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if not content_type.split(";")[0].strip().lower() == "application/json":
        raise SandboxError(415, f"Content type '{content_type}' not supported")
    try:
        return json.loads(await request.body())
    except ValueError:
        raise SandboxError(400, "The request body is not valid JSON") from None


def _page(title: str, message: str) -> str:
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )


def create_app(state: SandboxState, faults: Faults) -> Starlette:
    """The sandbox's ASGI app over `state`, with `faults` armed by tests."""
    app = SandboxApp(state, faults)
    kinds = ActivityKind
    routes = [
        Route("/v3/contact_tags", app.v3(api.list_tags), methods=["GET"]),
        Route("/v3/contact_tags", app.v3(api.create_tag), methods=["POST"]),
        Route("/v3/contact_tags/{tag_id}", app.v3(api.get_tag), methods=["GET"]),
        Route("/v3/contact_tags/{tag_id}", app.v3(api.rename_tag), methods=["PUT"]),
        Route("/v3/contact_tags/{tag_id}", app.v3(api.delete_tag), methods=["DELETE"]),
        Route(
            "/v3/activities/contacts_taggings_add",
            app.v3(api.tagging(kinds.ADD_TAGS)),
            methods=["POST"],
        ),
        Route(
            "/v3/activities/contacts_taggings_remove",
            app.v3(api.tagging(kinds.REMOVE_TAGS)),
            methods=["POST"],
        ),
        Route("/v3/activities/contacts_tags_delete", app.v3(api.delete_tags), methods=["POST"]),
        Route(
            "/v3/activities/add_list_memberships",
            app.v3(api.list_membership(kinds.ADD_TO_LISTS)),
            methods=["POST"],
        ),
        Route(
            "/v3/activities/remove_list_memberships",
            app.v3(api.list_membership(kinds.REMOVE_FROM_LISTS)),
            methods=["POST"],
        ),
        Route("/v3/activities", app.v3(api.list_activities), methods=["GET"]),
        Route("/v3/activities/{activity_id}", app.v3(api.get_activity), methods=["GET"]),
        Route("/v3/contact_lists", app.v3(api.list_lists), methods=["GET"]),
        Route("/v3/contact_lists/{list_id}", app.v3(api.get_list), methods=["GET"]),
        Route("/v3/contacts", app.v3(api.list_contacts), methods=["GET"]),
        Route("/v3/contacts/{contact_id}", app.v3(api.get_contact), methods=["GET"]),
        Route("/v3/account/summary", app.v3(api.account_summary), methods=["GET"]),
        *campaigns.routes(app.v3),
        Route("/oauth2/default/v1/authorize", app.authorize, methods=["GET"]),
        Route("/oauth2/default/v1/token", app.token, methods=["POST"]),
        Route("/_sandbox/faults", app.arm_fault, methods=["POST"]),
        Route("/_sandbox/faults", app.clear_faults, methods=["DELETE"]),
        Route("/_sandbox/requests", app.request_counts, methods=["GET"]),
        Route("/v3/{rest:path}", app.not_found),
    ]
    return Starlette(routes=routes)
