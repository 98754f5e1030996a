"""The resolver against the sandbox over real HTTP, with a real store on both databases.

One sandbox per module (a fresh account per test, with its own token, so each test counts its
own calls); the resolver's clock is a FakeClock that starts at the real time, because the
sandbox stamps contacts with the real clock and `updated_after` compares the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import EngagementLevel
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account, ContactRecord
from bot.store import Store
from bot.usecases.people import ContactResolver

UNLIMITED = 1_000_000.0


@dataclass
class World:
    sb: SandboxServer
    account: Account
    client: AccountClient
    store: Store
    clock: FakeClock
    resolver: ContactResolver
    token: str

    def contact_calls(self) -> int:
        """GET /v3/contacts requests the sandbox has seen (all accounts: tests run one by one)."""
        return self.sb.state.request_count("/v3/contacts", method="GET")

    def email_of(self, number: int) -> str:
        return f"contact{number}@example.com"

    def id_of(self, email: str) -> str:
        return self.account.by_email[email.lower()]

    def unsubscribed(self) -> list[str]:
        return [
            c.email
            for c in self.account.contacts.values()
            if not c.is_active and c.deleted_at is None
        ]

    def deleted(self) -> list[str]:
        return [c.email for c in self.account.contacts.values() if c.deleted_at is not None]

    def subscribed(self) -> list[str]:
        return [c.email for c in self.account.contacts.values() if c.is_active]

    def unsubscribe(self, email: str) -> None:
        """What a contact's unsubscribing does in Constant Contact."""
        with self.sb.state.lock:
            contact = self.account.contacts[self.id_of(email)]
            contact.permission_to_send = "unsubscribed"
            contact.updated_at = datetime.now(UTC)
            self.account.active.discard(contact.contact_id)

    def add_contact(self, email: str) -> str:
        """A contact created in Constant Contact (by hand, a sign-up form)."""
        with self.sb.state.lock:
            now = datetime.now(UTC)
            contact = ContactRecord(
                contact_id=str(uuid.uuid4()),
                email=email,
                first_name="New",
                last_name="Person",
                created_at=now,
                updated_at=now,
                permission_to_send="explicit",
                engagement=EngagementLevel.LOW,
            )
            self.account.contacts[contact.contact_id] = contact
            self.account.by_email[email] = contact.contact_id
            self.account.active.add(contact.contact_id)
            return contact.contact_id


def make_world(
    sb: SandboxServer, http: httpx.Client, database_url: str, contacts: int
) -> Iterator[World]:
    suffix = uuid.uuid4().hex[:10]
    account = sb.state.add_account(f"account-{suffix}", contacts=contacts)
    token = f"token-{suffix}"
    sb.state.add_access_token(token, account.account_id, expires_in=None)
    clock = FakeClock(start=datetime.now(UTC))
    limiter = TokenBucketLimiter(rate_per_second=UNLIMITED, clock=FakeClock())
    api = CCApi(sb.base_url, limiter, http=http, clock=clock)
    store = Store(database_url, clock=clock)
    store.upgrade()
    try:
        client = api.for_account(StaticTokens(token), account.account_id)
        resolver = ContactResolver(store, clock=clock)
        yield World(sb, account, client, store, clock, resolver, token)
    finally:
        store.close()
