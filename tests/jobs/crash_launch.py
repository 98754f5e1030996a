"""A launcher in a process of its own that kills itself with SIGKILL at a chosen moment of a
plan's start: `python -m tests.jobs.crash_launch <spec as JSON>` (see test_crash_safety)."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime

from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import Activity, ActivityKind, TaggingRequest, build
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.store import Store
from bot.usecases import Actor
from bot.usecases.launch import Launcher, start_step
from bot.usecases.plans import Plan, Step, independent
from bot.usecases.ports import Message


class SlackParent:
    """Just enough of a Conversation: the parent message, in the (fake) channel."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_parent(self, channel: str, message: Message) -> str:
        return str(self.client.chat_postMessage(channel=channel, text=message.text)["ts"])

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self.client.chat_update(channel=channel, ts=ref, text=message.text)

    def say(self, message: Message) -> None: ...

    def refuse(self, reason: str) -> None: ...

    def ask_to_confirm(self, preview: Message, pending: object) -> None: ...

    def open_form(self, command: str) -> None: ...


def main(spec: dict[str, object]) -> None:
    store = Store(str(spec["database_url"]), FakeClock(datetime.fromisoformat(str(spec["now"]))))
    api = CCApi(str(spec["sandbox_url"]), TokenBucketLimiter(rate_per_second=1000.0))
    client = api.for_account(StaticTokens(str(spec["token"])))
    bodies = spec["bodies"]
    assert isinstance(bodies, list)
    requests = [build(TaggingRequest, body) for body in bodies]
    plan = Plan("add_tags", str(spec["summary"]), independent(ActivityKind.ADD_TAGS, requests))
    calls = {"n": 0}

    def start(account: AccountClient, step: Step, summary: str) -> Activity:
        calls["n"] += 1
        activity = start_step(account, step)
        if calls["n"] == spec["kill_after_post"]:
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9: its answer is never recorded
        return activity

    slack = WebClient(token="xoxb-test", base_url=str(spec["slack_url"]))
    talk = SlackParent(slack)
    Launcher(store, start, Actor("T1", "U1"), talk).launch(client, plan, "C1")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
