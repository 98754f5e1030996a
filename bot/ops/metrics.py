"""Prometheus metrics, `cctag_*`, with bounded labels only (endpoint templates, never ids).

Two kinds, for being right with several processes:
- events (requests, errors, durations, ack latency) are counters and histograms of the process
  that saw them; with `PROMETHEUS_MULTIPROC_DIR` set, prometheus_client's multiprocess mode
  writes them to files there and any worker's /metrics adds up every worker's;
- states (the day's budget left, activities and jobs in flight, the poller's lag) are read from
  the database at scrape time, so every process answers the same, whoever serves the scrape.

Hook points: `cc_transport` (an httpx transport around Constant Contact's calls),
`SlackErrorCounter` (a slack_sdk retry handler that only watches), `stamp_arrival` and
`observe_ack` (a bolt middleware and the listeners' `acked`), `observe_settled` (the poller).
"""

from __future__ import annotations

import glob
import hmac
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.request import HttpRequest as RetryRequest
from slack_sdk.http_retry.response import HttpResponse as RetryResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.clock import Clock
from bot.store import Store, TrackedActivity
from bot.store.figures import jobs_in_flight, poller_lag_seconds

log = logging.getLogger(__name__)

OTHER = "other"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Past this many distinct values a label reads "other": a surprise never grows the series.
MAX_LABEL_VALUES = 200
UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
WORD = re.compile(r"^[a-z][a-z_-]{0,40}$")
SLACK_METHOD = re.compile(r"^[a-z]+(\.[a-zA-Z]+){1,3}$")
DURATIONS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 24 * 3600)
ACK_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)

CC_REQUESTS = Counter(
    "cctag_cc_requests",
    "Constant Contact API requests by endpoint template, method and status (or 'error': no answer)",
    ["endpoint", "method", "status"],
)
CC_RATE_LIMITED = Counter(
    "cctag_cc_rate_limited",
    "Constant Contact 429 answers by error_key (throttled, quota_exceeded...)",
    ["error_key"],
)
SLACK_ERRORS = Counter(
    "cctag_slack_api_errors",
    "Slack Web API calls that failed, by method and error (Slack's error code, or the HTTP status)",
    ["method", "error"],
)
ACK_LATENCY = Histogram(
    "cctag_ack_seconds",
    "From bolt's middleware to the ack, by kind of request (command, block_actions...)",
    ["kind"],
    buckets=ACK_SECONDS,
)
ACTIVITY_DURATION = Histogram(
    "cctag_activity_duration_seconds",
    "From an activity's start to the poller settling its end, by kind and end state",
    ["kind", "state"],
    buckets=DURATIONS,
)
JOB_DURATION = Histogram(
    "cctag_job_duration_seconds",
    "From a job's first activity to the poller settling the job's end",
    buckets=DURATIONS,
)


class _Bounded:
    """A label's values, capped: the first MAX_LABEL_VALUES pass, later new ones read 'other'."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) >= MAX_LABEL_VALUES:
                return OTHER
            self._seen.add(value)
            return value


_endpoints = _Bounded()
_slack_errors = _Bounded()


# ------------------------------------------------------------------ Constant Contact
def endpoint_template(path: str, base_path: str = "") -> str:
    """`/v3/contact_tags/3fa8…` → `/contact_tags/{id}`: every segment that is not a lowercase
    word (an id, a number, a UUID) becomes `{id}`."""
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path) :]
    segments = [
        s if WORD.match(s) and not UUID.match(s) else "{id}" for s in path.strip("/").split("/")
    ]
    return _endpoints("/" + "/".join(segments))


def _error_key(response: httpx.Response) -> str:
    try:
        body: Any = json.loads(response.read() or b"null")
    except ValueError:
        return "unknown"
    first = body[0] if isinstance(body, list) and body else body
    key = first.get("error_key") if isinstance(first, dict) else None
    return key if isinstance(key, str) and WORD.match(key.replace(".", "_")) else "unknown"


class MeteredTransport(httpx.BaseTransport):
    """Counts each request that goes to Constant Contact, by endpoint template and status."""

    def __init__(self, inner: httpx.BaseTransport, base_path: str = "") -> None:
        self._inner = inner
        self._base_path = base_path.rstrip("/")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = endpoint_template(request.url.path, self._base_path)
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError:
            CC_REQUESTS.labels(endpoint, request.method, "error").inc()
            raise
        CC_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        if response.status_code == 429:
            CC_RATE_LIMITED.labels(_error_key(response)).inc()
        return response

    def close(self) -> None:
        self._inner.close()


def cc_http_client(base_url: str, timeout: float = 10.0) -> httpx.Client:
    """The httpx client of CCApi, its requests counted."""
    base_path = httpx.URL(base_url).path
    return httpx.Client(
        timeout=timeout, transport=MeteredTransport(httpx.HTTPTransport(), base_path)
    )


# ------------------------------------------------------------------ Slack
class SlackErrorCounter(RetryHandler):
    """A slack_sdk retry handler that never retries: it counts each failed Web API call.

    slack_sdk asks its retry handlers about every answer (and every connection failure), and
    bolt copies the app client's handlers into the client of each request, so one handler
    placed first sees the calls of the listeners, the poller and the connect flow alike."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: RetryRequest,
        response: RetryResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        failure = _slack_failure(response, error)
        if failure is not None:
            method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
            SLACK_ERRORS.labels(method if SLACK_METHOD.match(method) else OTHER, failure).inc()
        return False


def _slack_failure(response: RetryResponse | None, error: Exception | None) -> str | None:
    if response is None:
        return "connection_error" if error is not None else None
    if response.status_code >= 400:
        return _slack_errors(f"http_{response.status_code}")
    body = response.body or {}
    if body.get("ok") is False:
        code = str(body.get("error") or "unknown")
        return _slack_errors(code) if WORD.match(code) else OTHER
    return None


# ------------------------------------------------------------------ acks
ARRIVED = "cctag_arrived"


def stamp_arrival(context: dict[str, Any], next: Callable[[], None]) -> None:
    """bolt middleware: when the request got past bolt's own checks (signature, installation)."""
    context[ARRIVED] = time.monotonic()
    next()


def observe_ack(context: dict[str, Any], body: dict[str, Any]) -> None:
    arrived = context.get(ARRIVED)
    if arrived is None:
        return  # an app built without the middleware (some tests)
    kind = "command" if body.get("command") else str(body.get("type") or OTHER)
    ACK_LATENCY.labels(kind if WORD.match(kind) else OTHER).observe(time.monotonic() - arrived)


# ------------------------------------------------------------------ durations
def observe_settled(settled: Iterable[tuple[TrackedActivity, bool]], clock: Clock) -> None:
    """(activity, finished) pairs the poller just settled: the finished ones' durations."""
    now = clock.now()
    for tracked, finished in settled:
        if not finished:
            continue
        seconds = max((now - tracked.created_at).total_seconds(), 0.0)
        if tracked.job_id is None:
            ACTIVITY_DURATION.labels(_kind(tracked.kind), _kind(tracked.state)).observe(seconds)
        elif tracked.job_carrier:
            JOB_DURATION.observe(seconds)


def _kind(value: str) -> str:
    return value if WORD.match(value) else OTHER


# ------------------------------------------------------------------ states, read at scrape time
def budget_left(store: Store, api_key: str, daily_quota: int) -> int:
    """What is left of the key's day. The one place that reads it: repoint it when the budget
    is shared differently."""
    return max(daily_quota - store.calls_today(api_key), 0)


@dataclass(frozen=True)
class StateCollector(Collector):
    """Gauges read from the database when scraped: every process answers the same."""

    store: Store
    clock: Clock
    budget: Callable[[], int]

    def collect(self) -> Iterator[Metric]:
        try:
            values = (
                self.budget(),
                self.store.in_flight_count(),
                jobs_in_flight(self.store),
                poller_lag_seconds(self.store, self.clock.now()),
            )
        except Exception as exc:  # a scrape must not fail with the database away
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            yield GaugeMetricFamily("cctag_database_up", "1 when the database answered", 0)
            return
        yield GaugeMetricFamily("cctag_database_up", "1 when the database answered", 1)
        for (name, text), value in zip(STATE_GAUGES, values, strict=True):
            yield GaugeMetricFamily(name, text, value)

    def describe(self) -> Iterator[Metric]:
        return iter(())


STATE_GAUGES: Sequence[tuple[str, str]] = (
    ("cctag_budget_left", "Constant Contact calls left today of the API key's daily quota"),
    ("cctag_activities_in_flight", "Activities started and not yet settled by the poller"),
    ("cctag_jobs_in_flight", "Jobs (requests of several activities) not yet ended"),
    ("cctag_poller_lag_seconds", "How long the most overdue activity has waited past its poll"),
)


# ------------------------------------------------------------------ exposition
def exposition(states: Collector | None) -> bytes:
    """The text format: this process's events (every worker's, in multiprocess mode) and the
    database's states."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if states is not None:
        state_registry = CollectorRegistry()
        state_registry.register(states)
        body += generate_latest(state_registry)
    return body


def share_between_processes() -> None:
    """Before workers start: their counters go to PROMETHEUS_MULTIPROC_DIR (a fresh folder
    unless set), emptied of a previous run's files, which would otherwise count again."""
    folder = os.environ.get(MULTIPROC_DIR) or tempfile.mkdtemp(prefix="cctag-metrics-")
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.remove(stale)
    os.environ[MULTIPROC_DIR] = folder


def authorized(header: str | None, token: str | None) -> bool:
    """No token set: open. Else `Authorization: Bearer <token>`, compared in constant time."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def metrics_route(states: Collector | None, token: str | None) -> Route:
    async def metrics(request: Request) -> Response:
        if not authorized(request.headers.get("authorization"), token):
            return PlainTextResponse(
                "Authorization: Bearer <CCTAG_METRICS_TOKEN> is needed\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await run_in_threadpool(exposition, states)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


class MetricsServer:
    """GET /metrics on its own port, in a thread (`cctag poll --metrics-port N`)."""

    def __init__(self, port: int, states: Collector | None, token: str | None) -> None:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            if environ.get("PATH_INFO") != "/metrics":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"only /metrics here\n"]
            if not authorized(environ.get("HTTP_AUTHORIZATION"), token):
                start_response(
                    "401 Unauthorized",
                    [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")],
                )
                return [b"Authorization: Bearer <CCTAG_METRICS_TOKEN> is needed\n"]
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [exposition(states)]

        self._server = make_server("0.0.0.0", port, app, ThreadingWSGIServer, handler_class=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="cctag-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def __enter__(self) -> MetricsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
