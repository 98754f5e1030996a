"""Fault injection: what the next matching requests suffer, switched on by tests.

In-process: `server.faults.fail(path="/activities/", times=2)`. Over HTTP (another process):
`POST /_sandbox/faults` with `{"kind": "fail", "path": "...", "times": 2}` (see `apply`).
Rules match by method (None: any) and a substring of the path; each matching request uses
up one of a rule's `times`. Delays are real seconds (they model the network, not the clock).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from bot.cc.models import ActivityState
from bot.devkit.sandbox.state import SandboxState

FaultKind = Literal["fail", "throttle", "delay", "commit_then_delay", "hold_then_commit"]


@dataclass
class FaultRule:
    kind: FaultKind
    path: str = ""
    method: str | None = None
    times: int = 1
    status: int = 500
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and self.path in path


class Faults:
    """The armed faults of one sandbox; thread-safe."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    # ------------------------------------------------------------ arming
    def fail(
        self, path: str = "", method: str | None = None, times: int = 1, status: int = 500
    ) -> None:
        """Answer the next `times` matching requests with `status` (5xx) and do nothing."""
        self._arm(FaultRule("fail", path, method, times, status=status))

    def throttle(self, path: str = "", method: str | None = None, times: int = 1) -> None:
        """Answer the next `times` matching requests with 429 throttled."""
        self._arm(FaultRule("throttle", path, method, times, status=429))

    def delay(
        self, seconds: float, path: str = "", method: str | None = None, times: int = 1
    ) -> None:
        """Wait `seconds` before handling the next `times` matching requests."""
        self._arm(FaultRule("delay", path, method, times, seconds=seconds))

    def commit_then_delay(
        self, seconds: float, path: str = "", method: str | None = None, times: int = 1
    ) -> None:
        """Handle the next matching requests at once, but answer only after `seconds`.

        A client with a shorter timeout sees no answer although the effect happened: the
        lost-answer case it must reconcile (e.g. find the activity in GET /activities).
        """
        self._arm(FaultRule("commit_then_delay", path, method, times, seconds=seconds))

    def hold_then_commit(
        self, seconds: float, path: str = "", method: str | None = None, times: int = 1
    ) -> None:
        """Take the next matching requests whole, hold them `seconds`, then handle them even
        if the client has given up: a request that reaches the API after the client's
        timeout (and after any look the client took in the meantime)."""
        self._arm(FaultRule("hold_then_commit", path, method, times, seconds=seconds))

    def end_next_activity(
        self, state: ActivityState | str, errors: list[str] | None = None
    ) -> None:
        """The next activity created ends `failed`, `cancelled` or `timed_out` with `errors`."""
        outcome = ActivityState(state)
        if not outcome.is_terminal:
            raise ValueError(f"{state} is not a terminal state")
        self._state.plan_next_activity(outcome, errors or [])

    def segment_computing(self, times: int, segment_id: int | None = None) -> None:
        """The next `times` member queries of the segment (None: of every segment of every
        account) answer 202, still computing, before the 200."""
        if times < 0:
            raise ValueError("times must not be negative")
        with self._state.lock:
            for account in self._state.accounts.values():
                for known in account.segments:
                    if segment_id in (None, known):
                        account.segment_computing[known] = times

    def contacts_service_links(self, on: bool = True) -> None:
        """Paging links name the account's contacts service (/contacts-service/v3/accounts/
        {id}/...), as some of the guide's examples do, instead of /v3/...; both are served."""
        with self._state.lock:
            self._state.contacts_service_links = on

    def expire_token(self, token: str) -> None:
        """From now on the token is refused with 401."""
        self._state.expire_token(token)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def _arm(self, rule: FaultRule) -> None:
        if rule.times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._rules.append(rule)

    # ------------------------------------------------------------ use
    def take(self, method: str, path: str) -> FaultRule | None:
        """The first armed rule matching this request, using up one of its times."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return rule
            return None

    def pending(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm a fault from its JSON form (the body of POST /_sandbox/faults).

        kinds: fail {path, method, times, status}, throttle {path, method, times},
        delay / commit_then_delay / hold_then_commit {seconds, path, method, times},
        end_next_activity {state, errors}, segment_computing {times, segment_id},
        contacts_service_links {on},
        expire_token {token}, clear {}.
        """
        kind = spec.get("kind")
        path = str(spec.get("path", ""))
        method = spec.get("method")
        times = int(spec.get("times", 1))
        if kind == "fail":
            self.fail(path, method, times, status=int(spec.get("status", 500)))
        elif kind == "throttle":
            self.throttle(path, method, times)
        elif kind == "delay":
            self.delay(float(spec["seconds"]), path, method, times)
        elif kind == "commit_then_delay":
            self.commit_then_delay(float(spec["seconds"]), path, method, times)
        elif kind == "hold_then_commit":
            self.hold_then_commit(float(spec["seconds"]), path, method, times)
        elif kind == "end_next_activity":
            self.end_next_activity(str(spec["state"]), [str(e) for e in spec.get("errors", [])])
        elif kind == "segment_computing":
            segment = spec.get("segment_id")
            self.segment_computing(times, None if segment is None else int(segment))
        elif kind == "contacts_service_links":
            self.contacts_service_links(bool(spec.get("on", True)))
        elif kind == "expire_token":
            self.expire_token(str(spec["token"]))
        elif kind == "clear":
            self.clear()
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
