"""Plans waiting for a Confirm click, kept in memory for a while (the web process's memory).

A plan holds resolved ids (up to 500 contacts), too much for a button value or a modal's
private_metadata, so the confirmation carries only this table's key.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from bot.clock import Clock
from bot.usecases import Actor, Plan

DEFAULT_TTL_SECONDS = 15 * 60


@dataclass(frozen=True)
class PendingStart:
    plan: Plan
    actor: Actor
    expires_at: float


class PendingPlans:
    def __init__(self, clock: Clock, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._plans: dict[str, PendingStart] = {}
        self._lock = threading.Lock()

    def put(self, plan: Plan, actor: Actor) -> str:
        plan_id = uuid.uuid4().hex
        with self._lock:
            self._drop_expired()
            self._plans[plan_id] = PendingStart(plan, actor, self._clock.monotonic() + self._ttl)
        return plan_id

    def get(self, plan_id: str) -> PendingStart | None:
        with self._lock:
            self._drop_expired()
            return self._plans.get(plan_id)

    def drop(self, plan_id: str) -> PendingStart | None:
        with self._lock:
            return self._plans.pop(plan_id, None)

    def _drop_expired(self) -> None:
        now = self._clock.monotonic()
        for plan_id in [k for k, v in self._plans.items() if v.expires_at <= now]:
            del self._plans[plan_id]
