"""The worker (`cctag poll`): the poller's cycles and the rules' runs, one after the other,
until stopped. Each says how long until it has work again; the worker waits the shortest."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Cycle = Callable[[], float]


def run_cycles(
    stop: threading.Event, cycles: Sequence[Cycle], *, fallback: float, longest: float
) -> None:
    """Run each cycle in turn until `stop` is set; a cycle under way finishes first, so
    nothing is lost. A failing cycle is logged and retried after `fallback` seconds; no wait
    is longer than `longest` (tests make it short: their clock is not the wall's)."""
    while not stop.is_set():
        waits = [longest]
        for cycle in cycles:
            if stop.is_set():  # a stop asked for during one cycle starts no other
                return
            waits.append(_guarded(cycle, fallback))
        stop.wait(min(waits))


def _guarded(cycle: Cycle, fallback: float) -> float:
    try:
        return cycle()
    except Exception:
        log.exception("a worker cycle failed; leases expire and the next cycle resumes")
        return fallback
