"""The worker's loop: each cycle in turn, the shortest wait, and a stop that starts nothing more."""

from __future__ import annotations

import threading

from bot.worker import run_cycles


def test_a_stop_asked_for_during_one_cycle_starts_no_other() -> None:
    stop = threading.Event()
    ran: list[str] = []

    def polls() -> float:
        ran.append("poll")
        stop.set()  # SIGTERM while the poller's cycle runs
        return 0.0

    def rules() -> float:
        ran.append("rules")
        return 0.0

    run_cycles(stop, [polls, rules], fallback=0.01, longest=0.01)
    assert ran == ["poll"]


def test_every_cycle_runs_in_turn_and_a_failing_one_does_not_stop_the_others() -> None:
    stop = threading.Event()
    ran: list[str] = []

    def broken() -> float:
        ran.append("broken")
        raise RuntimeError("a bug")

    def counted() -> float:
        ran.append("counted")
        if ran.count("counted") == 3:
            stop.set()
        return 0.0

    run_cycles(stop, [broken, counted], fallback=0.0, longest=0.01)
    assert ran == ["broken", "counted"] * 3
