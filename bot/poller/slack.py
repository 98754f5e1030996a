"""The poller's Slack client: no call may outlive the lease it is made under.

The app's WebClient honours 429 by sleeping Retry-After inside the call and retries dropped
connections (bot/wiring.py). Inside the poller either would hold a lease past its end (a
Retry-After of 20 s against a 30 s lease), and a retried post whose first try did land would
post twice. So the poller works on a copy with no retry handlers and a timeout within half a
lease: a refused or lost call comes back at once, and the cycle defers that thread's work.
"""

from __future__ import annotations

import copy

from slack_sdk import WebClient

from bot.ops.metrics import SlackErrorCounter


def bounded(client: WebClient, timeout: float) -> WebClient:
    """A copy of `client` (its class kept) that never retries and gives up after `timeout` s;
    its errors are still counted."""
    copied = copy.copy(client)
    copied.retry_handlers = [h for h in client.retry_handlers if isinstance(h, SlackErrorCounter)]
    copied.timeout = max(1, int(timeout))
    return copied
