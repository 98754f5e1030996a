"""Bench: resolving E emails in an account of N contacts, cold and warm, against one look-up each.

    python -m bench.resolve [--contacts 50000] [--emails 5000] [--database-url URL]

The sandbox (real HTTP on 127.0.0.1) answers at most 4 requests a second, as the real API,
and the client spaces its calls under that limit: cold (empty index: a full sync) and warm
(the index older than FRESH_FOR: one `updated_after` refresh) are measured in real seconds.
The baseline, one `GET /contacts?email=` per email, is run for real too, against a second
sandbox with the same seeded data and no rate limit (4 a second would take the whole
`emails / 4` seconds, 21 minutes for 5,000): its calls are counted, its seconds computed at
4 a second. All three must tell the same contacts apart. About 5% of the emails are unknown.
Its last line:
`resolve: emails=… contacts=… cold_calls=… warm_calls=… per_email_calls=… cold_s=… warm_s=…`.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta

from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DEFAULT_ACCESS_TOKEN
from bot.store import Store
from bot.usecases.people import FRESH_FOR, ContactResolver, Resolution, ResolveMethod

RATE = 4.0
UNKNOWN_SHARE = 0.05
ACCOUNT_KEY = "bench"


class ShiftedClock:
    """The system clock, moved forward on demand: makes the index stale without waiting."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def monotonic(self) -> float:
        return SYSTEM_CLOCK.monotonic() + self.shift.total_seconds()

    def now(self) -> datetime:
        return SYSTEM_CLOCK.now() + self.shift

    def sleep(self, seconds: float) -> None:
        SYSTEM_CLOCK.sleep(seconds)


def client_of(sandbox: SandboxServer, rate: float) -> AccountClient:
    api = CCApi(sandbox.base_url, TokenBucketLimiter(rate_per_second=rate), timeout=30.0)
    return api.for_account(StaticTokens(DEFAULT_ACCESS_TOKEN), ACCOUNT_KEY)


def chosen_emails(sandbox: SandboxServer, count: int, seed: int = 13) -> list[str]:
    everyone = list(sandbox.state.account().by_email)
    rng = random.Random(seed)
    unknown = round(count * UNKNOWN_SHARE)
    known = rng.sample(everyone, count - unknown)
    return known + [f"unknown{n}@example.org" for n in range(unknown)]


def outcome(resolution: Resolution) -> tuple[object, ...]:
    skipped = sorted((s.email, s.contact_id, s.reason) for s in resolution.skipped)
    return dict(sorted(resolution.found.items())), sorted(resolution.not_found), skipped


def timed(
    resolver: ContactResolver, client: AccountClient, emails: list[str]
) -> tuple[Resolution, float]:
    started = time.perf_counter()
    resolution = resolver.resolve(client, emails, account_key=ACCOUNT_KEY)
    return resolution, time.perf_counter() - started


def run(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{folder}/bench.db"
        return _run(args, database_url, folder)


def _run(args: argparse.Namespace, database_url: str, folder: str) -> str:
    clock = ShiftedClock()
    store = Store(database_url, clock=clock)
    store.upgrade()
    resolver = ContactResolver(store, clock=clock)
    started = time.perf_counter()
    with SandboxServer(contacts=args.contacts, rate_per_second=RATE) as limited:
        print(f"sandbox of {args.contacts} contacts up in {time.perf_counter() - started:.1f} s")
        emails = chosen_emails(limited, args.emails)
        client = client_of(limited, RATE)
        cold, cold_s = timed(resolver, client, emails)
        print(f"cold: {cold.method} {cold.calls} calls {cold_s:.1f} s (measured at {RATE:g}/s)")
        again, _ = timed(resolver, client, emails)
        print(f"warm within {FRESH_FOR.seconds} s: {again.calls} calls")
        clock.shift += FRESH_FOR
        warm, warm_s = timed(resolver, client, emails)
        print(f"warm (stale, refreshed): {warm.calls} calls {warm_s:.2f} s (measured)")
    with SandboxServer(contacts=args.contacts, rate_per_second=1_000_000.0) as free:
        # The look-ups use no index; the resolver only needs a store to exist.
        baseline_store = Store(f"sqlite:///{folder}/baseline.db")
        began = time.perf_counter()
        baseline = ContactResolver(baseline_store).look_up_each(client_of(free, 1e6), emails)
        print(f"(the look-ups took {time.perf_counter() - began:.0f} s with no rate limit)")
        baseline_store.close()
    per_email_s = baseline.calls / RATE
    print(
        f"one look-up per email: {baseline.calls} calls, {per_email_s:.0f} s computed at {RATE:g}/s"
    )
    assert baseline.method == ResolveMethod.LOOKUPS
    if not outcome(cold) == outcome(warm) == outcome(baseline):
        raise SystemExit("the three ways disagree about which contacts these emails are")
    print(
        f"found {len(cold.found)}, unsubscribed or deleted {len(cold.skipped)}, "
        f"not found {len(cold.not_found)}"
    )
    store.close()
    return (
        f"resolve: emails={len(emails)} contacts={args.contacts} cold_calls={cold.calls} "
        f"warm_calls={warm.calls} per_email_calls={baseline.calls} cold_s={cold_s:.1f} "
        f"warm_s={warm_s:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--emails", type=int, default=5_000)
    parser.add_argument("--database-url", default=None)
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
