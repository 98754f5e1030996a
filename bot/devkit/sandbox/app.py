"""The sandbox as a Starlette app: V3 under /v3, OAuth2 under /oauth2/default/v1, controls under
/_sandbox.

Every /v3 request goes, in order: counted → armed fault → bearer token (401) → per-second
rate and daily quota of the token's API key (429) → JSON content type (415) and body (400) →
the published contract's checks of parameters and body (400, one error item per problem) →
activities advanced → handler, under the state's lock.

With `check_answers` (the test suite turns it on through CCTAG_SANDBOX_CHECK_ANSWERS=1), every
answer is held to the contract too: one that breaks it is recorded in
`schema.ANSWER_PROBLEMS` and replaced by a 500 naming the problem, so no test passes on it.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, Router

from bot.cc.models import ActivityKind
from bot.devkit.sandbox import api, campaigns, oauth
from bot.devkit.sandbox.faults import FaultRule, Faults
from bot.devkit.sandbox.schema import ANSWER_PROBLEMS, Operation, contract
from bot.devkit.sandbox.state import SandboxError, SandboxState

UNAUTHORIZED = {"error_key": "unauthorized", "error_message": "Unauthorized"}
THROTTLED = {"error_key": "throttled", "error_message": "Too Many Requests"}
QUOTA_EXCEEDED = {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
JSON_METHODS = ("POST", "PUT", "PATCH")
CHECK_ANSWERS_VARIABLE = "CCTAG_SANDBOX_CHECK_ANSWERS"
CONTACTS_SERVICE = "/contacts-service/v3/accounts/{account_id}"
# One V3 endpoint: method, path template as the contract writes it, handler.
V3Route = tuple[str, str, api.Handler]


def checking_answers() -> bool:
    return os.environ.get(CHECK_ANSWERS_VARIABLE, "") == "1"


def error_response(error: SandboxError) -> JSONResponse:
    """Auth and rate errors are one object; every other error is an array of them."""
    status, body = error_answer(error)
    return JSONResponse(body, status_code=status)


def error_answer(error: SandboxError) -> tuple[int, Any]:
    items = [{"error_key": error.key, "error_message": m} for m in error.messages]
    single = error.status in (401, 429) and error.key in (
        "unauthorized",
        "throttled",
        "quota_exceeded",
    )
    return error.status, items[0] if single else items


def _fault_answer(rule: FaultRule) -> Response | None:
    if rule.kind == "throttle":
        return JSONResponse(THROTTLED, status_code=429)
    if rule.kind == "fail":
        phrase = HTTPStatus(rule.status).phrase
        item = {"error_key": "server.error", "error_message": phrase}
        return JSONResponse([item], status_code=rule.status)
    return None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class SandboxApp:
    """Request plumbing shared by the endpoints of one state and its faults."""

    def __init__(self, state: SandboxState, faults: Faults, check_answers: bool) -> None:
        self.state = state
        self.faults = faults
        self.check_answers = check_answers

    async def _faulted(self, request: Request) -> tuple[Response | None, FaultRule | None]:
        self.state.count_request(request.method, request.url.path)
        rule = self.faults.take(request.method, request.url.path)
        if rule is None:
            return None, None
        if rule.kind == "delay":
            await asyncio.sleep(rule.seconds)
        if rule.kind == "hold_then_commit":
            await request.body()  # kept by the request: handled even once the client is gone
            await asyncio.sleep(rule.seconds)
        return _fault_answer(rule), rule

    # ------------------------------------------------------------ /v3
    def v3(self, operation: Operation, handler: api.Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            early, rule = await self._faulted(request)
            if early is not None:
                return early
            try:
                status, payload = await self._answer(request, operation, handler)
            except SandboxError as error:
                status, payload = error_answer(error)
            if self.check_answers:
                status, payload = self._checked(operation, status, payload)
            if rule is not None and rule.kind == "commit_then_delay":
                await asyncio.sleep(rule.seconds)
            return JSONResponse(payload, status_code=status)

        return endpoint

    def _checked(self, operation: Operation, status: int, payload: Any) -> tuple[int, Any]:
        problems = operation.answer_problems(status, payload)
        if not problems:
            return status, payload
        where = f"{operation.method} {operation.template} answered {status}"
        for problem in problems:
            ANSWER_PROBLEMS.record(f"{where}: {problem}")
        return error_answer(SandboxError(500, f"{where}, against the contract", "sandbox.contract"))

    async def _answer(
        self, request: Request, operation: Operation, handler: api.Handler
    ) -> tuple[int, Any]:
        found = self.state.account_for_token(_bearer(request) or "")
        if found is None:
            raise SandboxError(401, "Unauthorized", "unauthorized")
        account, token = found
        if request.path_params.get("account_id", account.account_id) != account.account_id:
            raise SandboxError(404, "No such account for this token")
        key = f"api:{token.client_id}"
        if not self.state.take_rate(key, self.state.rate_per_second):
            raise SandboxError(429, "Too Many Requests", "throttled")
        if not self.state.take_daily(key):
            raise SandboxError(429, "Limit Exceeded", "quota_exceeded")
        body = await _json_body(request) if request.method in JSON_METHODS else None
        query = dict(request.query_params)
        path_params = {k: v for k, v in request.path_params.items() if k != "account_id"}
        problems = operation.request_problems(path_params, query, body)
        if problems:
            raise SandboxError(400, problems[0], more=problems[1:])
        call = api.Call(
            state=self.state,
            account=account,
            path=request.url.path,
            query=query,
            path_params=path_params,
            body=body,
            scopes=frozenset(token.scope.split()),
        )
        with self.state.lock:
            self.state.advance()
            status, payload = handler(call)
            if self.state.contacts_service_links:
                _as_contacts_service_links(payload, account.account_id)
            return status, payload

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


def _as_contacts_service_links(payload: Any, account_id: str) -> None:
    """Rewrite `_links.next.href` the way some of the guide's examples show it."""
    links = payload.get("_links") if isinstance(payload, dict) else None
    following = links.get("next") if isinstance(links, dict) else None
    if isinstance(following, dict) and str(following.get("href", "")).startswith("/v3/"):
        service = CONTACTS_SERVICE.format(account_id=account_id)
        following["href"] = service + following["href"].removeprefix("/v3")


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


def v3_routes() -> list[V3Route]:
    """Every V3 endpoint the sandbox answers; each must be an operation of the vendored cut."""
    kinds = ActivityKind
    return [
        ("GET", "/contact_tags", api.list_tags),
        ("POST", "/contact_tags", api.create_tag),
        ("GET", "/contact_tags/{tag_id}", api.get_tag),
        ("PUT", "/contact_tags/{tag_id}", api.rename_tag),
        ("DELETE", "/contact_tags/{tag_id}", api.delete_tag),
        ("POST", "/activities/contacts_taggings_add", api.tagging(kinds.ADD_TAGS)),
        ("POST", "/activities/contacts_taggings_remove", api.tagging(kinds.REMOVE_TAGS)),
        ("POST", "/activities/contacts_tags_delete", api.delete_tags),
        ("POST", "/activities/add_list_memberships", api.list_membership(kinds.ADD_TO_LISTS)),
        (
            "POST",
            "/activities/remove_list_memberships",
            api.list_membership(kinds.REMOVE_FROM_LISTS),
        ),
        ("GET", "/activities", api.list_activities),
        ("GET", "/activities/{activity_id}", api.get_activity),
        ("GET", "/contact_lists", api.list_lists),
        ("GET", "/contact_lists/{list_id}", api.get_list),
        ("GET", "/contacts", api.list_contacts),
        ("GET", "/contacts/{contact_id}", api.get_contact),
        ("GET", "/segments", api.list_segments),
        ("GET", "/segments/{segment_id}", api.get_segment),
        ("GET", "/account/summary", api.account_summary),
        # Email campaigns and their tracking reports (bot/devkit/sandbox/campaigns.py).
        *campaigns.v3_routes(),
    ]


def create_app(
    state: SandboxState,
    faults: Faults,
    *,
    check_answers: bool | None = None,
    extra_routes: Iterable[V3Route] = (),
) -> Starlette:
    """The sandbox's ASGI app over `state`, with `faults` armed by tests.

    `check_answers` None follows CCTAG_SANDBOX_CHECK_ANSWERS.
    """
    app = SandboxApp(state, faults, checking_answers() if check_answers is None else check_answers)
    cut = contract()
    v3 = Router(
        routes=[
            *(
                Route(template, app.v3(cut.operation(method, template), handler), methods=[method])
                for method, template, handler in [*v3_routes(), *extra_routes]
            ),
            Route("/{rest:path}", app.not_found),
        ]
    )
    routes = [
        Mount(cut.base_path, app=v3),
        # The guide's paging links may name the account's contacts service instead of /v3.
        Mount(CONTACTS_SERVICE, app=v3),
        Route("/oauth2/default/v1/authorize", app.authorize, methods=["GET"]),
        Route("/oauth2/default/v1/token", app.token, methods=["POST"]),
        Route("/_sandbox/faults", app.arm_fault, methods=["POST"]),
        Route("/_sandbox/faults", app.clear_faults, methods=["DELETE"]),
        Route("/_sandbox/requests", app.request_counts, methods=["GET"]),
    ]
    return Starlette(routes=routes)
