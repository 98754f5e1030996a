"""The database: tracked activities, audit log, idempotency keys, the shared rate budget."""

from bot.store.models import AuditEntry, NewActivity, Observation, SlackPost, TrackedActivity
from bot.store.store import Store

__all__ = ["AuditEntry", "NewActivity", "Observation", "SlackPost", "Store", "TrackedActivity"]
