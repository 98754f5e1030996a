"""The Slack listeners, one module per kind, each with `register(app, deps)`: payloads in,
the pipeline, Block Kit out. `acked` is the one way a listener acks and then works."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.ops.metrics import observe_ack
from bot.slack.workspaces import HomeData
from bot.usecases.inputs import Actor
from bot.usecases.requests import Pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    pipeline: Pipeline
    work: Executor
    home: HomeData | None = None

    def later(self, work: Callable[[], None]) -> None:
        """After the ack: on our own pool, so slow Constant Contact calls never hold up bolt's
        listener threads (and with them the acks of other requests)."""
        self.work.submit(_logged, work)


@dataclass(frozen=True)
class Incoming:
    body: dict[str, Any]
    respond: Respond
    client: WebClient
    context: BoltContext

    @property
    def actor(self) -> Actor:
        return actor_of(self.context, self.body)

    @property
    def action(self) -> dict[str, Any]:
        actions: list[dict[str, Any]] = self.body.get("actions") or [{}]
        return actions[0]


def actor_of(context: BoltContext, body: dict[str, Any]) -> Actor:
    team = context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or ""
    user = context.user_id or body.get("user_id") or (body.get("user") or {}).get("id") or ""
    return Actor(str(team), str(user))


def acked(deps: Deps, work: Callable[[Incoming], None]) -> Callable[..., None]:
    """A listener that acks at once and runs `work` on the pool."""

    def listener(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        observe_ack(context, body)
        incoming = Incoming(body, respond, client, context)
        deps.later(lambda: work(incoming))

    return listener


def _logged(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:
        log.exception("background work failed")


def register_all(app: App, deps: Deps) -> None:
    from bot.slack.listeners import actions, commands, events, options, shortcuts, views

    for kind in (commands, actions, views, options, events, shortcuts):
        kind.register(app, deps)
