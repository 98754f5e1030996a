"""Clean stops: SIGTERM (or Ctrl-C) on `cctag serve` stops taking requests, lets the acks and the
work after them (look-ups, launches) finish within CCTAG_STOP_SECONDS, then exits 0.

The order: uvicorn closes its listening socket and waits for the HTTP requests in flight (the
acks); Socket Mode is closed next; then the work pool runs what it holds to its end, so a
launch that began posts its parent, starts its activity and tracks it. Whatever is still
running when the time is up is left (logged): the platform's SIGKILL would cut it anyway, and a
job records its parts before starting them, so the next process knows what was not started.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
ACK_SECONDS = 5.0


class DrainingPool(ThreadPoolExecutor):
    """A ThreadPoolExecutor that can wait, with a deadline, for everything it was given."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._running: set[Future[Any]] = set()
        self._guard = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._guard:
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._guard:
            self._running.discard(future)

    def in_flight(self) -> int:
        with self._guard:
            return len(self._running)

    def drain(self, seconds: float) -> int:
        """Wait up to `seconds` for the work given (and any work it gives in turn); answer how
        many pieces are still running when the time is up."""
        deadline = time.monotonic() + seconds
        while True:
            with self._guard:
                running = list(self._running)
            left = deadline - time.monotonic()
            if not running or left <= 0:
                return len(running)
            wait(running, timeout=left)


class StoppingServer(uvicorn.Server):
    """uvicorn's server, remembering when it was asked to stop (the stop's time starts then)."""

    def __init__(self, config: uvicorn.Config, stop_seconds: float) -> None:
        super().__init__(config)
        self.stop_seconds = stop_seconds
        self.stop_began: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stop_began is None:
            self.stop_began = time.monotonic()
            log.info("stopping: no new requests; finishing those in flight")
        super().handle_exit(sig, frame)

    def seconds_left(self) -> float:
        began = self.stop_began if self.stop_began is not None else time.monotonic()
        return max(self.stop_seconds - (time.monotonic() - began), 0.0)


@contextmanager
def signals_kept() -> Iterator[None]:
    """uvicorn raises the stop signal again once it has shut down, to whatever handler was
    there before: a do-nothing one here, so the process goes on to finish its work."""

    def ignore(signum: int, frame: FrameType | None) -> None:
        return None

    before = {sig: signal.signal(sig, ignore) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def serve_until_stopped(
    server: StoppingServer,
    pool: DrainingPool,
    then_close: Callable[[], None] = lambda: None,
) -> int:
    """Run `server` until a stop signal; then finish (below) in what is left of the time."""
    with signals_kept():
        server.run()
    return finish(pool, then_close, server.seconds_left(), server.stop_seconds)


def ack_grace(stop_seconds: float) -> float:
    """Where the stop's time cannot be split as it goes (a worker under uvicorn's supervisor):
    the HTTP requests in flight get this much (acks take under 3 s: Slack's own limit), the
    work pool the rest."""
    return min(ACK_SECONDS, stop_seconds / 2)


def finish(
    pool: DrainingPool, close: Callable[[], None], seconds: float, stop_seconds: float
) -> int:
    """Close what `close` closes (Socket Mode, the poller thread), drain `pool` for up to
    `seconds`, and answer the exit status (0)."""
    close()
    still = pool.drain(seconds)
    if still:
        log.warning("stopped with %d request(s) still working after %.0f s", still, stop_seconds)
        logging.shutdown()
        os._exit(0)  # the pool's threads would otherwise hold the interpreter's exit
    pool.shutdown(wait=True)
    log.info("stopped")
    return 0
