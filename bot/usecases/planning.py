"""The bulk commands' plans (add, remove, lists, unlists, delete): check limits, resolve every
name (all unknown ones listed), count what the request touches, cut it into activities.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.cc.budget import current_caller
from bot.cc.client import AccountClient
from bot.cc.models import ActivityKind, TagDeleteRequest, build
from bot.usecases.bodies import activity_kind, looked_up, refuse_limits, split
from bot.usecases.catalog import Catalog
from bot.usecases.inputs import Actor, BulkInput, DeleteInput, SourceKind, TaggingInput
from bot.usecases.names import Named
from bot.usecases.outcomes import Refused, plural, quoted
from bot.usecases.people import ContactResolver
from bot.usecases.plans import Plan, Step, independent
from bot.usecases.resolver import Resolver, count, picked
from bot.usecases.sources import Sources
from bot.usecases.words import summarize

# Above this many contacts a request counts as broad and asks to confirm.
BROAD_CONTACTS = 1000


class BulkPlanner:
    def __init__(self, catalog: Catalog, people: ContactResolver, sources: Sources) -> None:
        self.catalog = catalog
        self.people = people
        self.sources = sources

    def plan(
        self,
        actor: Actor,
        client: AccountClient,
        inp: BulkInput,
        notify: Callable[[str], None] | None = None,
    ) -> Plan:
        refuse_limits(inp)
        if isinstance(inp, DeleteInput):
            return plan_delete(client, inp)
        resolver = Resolver(self.catalog, actor.workspace_id, client, self.people)
        if isinstance(inp, TaggingInput):
            targets = resolver.tags(inp.tag_names)
        else:
            targets = resolver.lists(inp.list_names)
        later = looked_up(inp)
        source = {} if later else resolver.source(inp.source)
        exclude = resolver.excluded(inp.exclude)
        resolver.raise_unknown()  # before any report is read: a misspelt name costs no more
        notes: tuple[str, ...] = ()
        people = resolver.people
        if later:
            found = self.sources.plan_source(
                actor.workspace_id,
                client,
                inp.source,
                exclude,
                tagging=isinstance(inp, TaggingInput),
                notify=notify,
            )
            source, exclude, notes, people = found.body, found.exclude, found.notes, found.people
        requests = split(inp, source, targets, exclude)
        contacts = count(client, inp.source.kind, source, len(exclude))
        broad = inp.source.kind == SourceKind.ALL_ACTIVE or (contacts or 0) > BROAD_CONTACTS
        kind = activity_kind(inp)
        return Plan(
            kind.value,
            summarize(inp),
            independent(kind, requests),
            contacts,
            broad=broad,
            notes=notes,
            people=people,
            calls_left=calls_left_today(client),
        )


def plan_delete(client: AccountClient, inp: DeleteInput) -> Plan:
    tags = {tag.tag_id: tag for tag in client.list_tags(include_count=True)}
    named = [Named(t.tag_id, t.name, t.contacts_count) for t in tags.values()]
    ids, refusals = picked(inp.tag_names, "tag", lambda _fresh: named)
    if refusals:
        raise Refused("; ".join(refusals))
    chosen = [tags[ident] for ident in ids]
    request = build(TagDeleteRequest, {"tag_ids": [tag.tag_id for tag in chosen]})
    counts = tuple((tag.name, tag.contacts_count) for tag in chosen)
    total = sum(c or 0 for _, c in counts)
    return Plan(
        ActivityKind.DELETE_TAGS.value,
        f"delete tags {quoted([tag.name for tag in chosen])}",
        (Step(ActivityKind.DELETE_TAGS, request),),
        contacts=total,
        tag_counts=counts,
        broad=True,
        warning=deleting_warning(total),
        confirm=True,
    )


def deleting_warning(contacts: int | None) -> str:
    total = f" ({plural(contacts, 'contact')} in all)" if contacts is not None else ""
    return (
        f"Deleting a tag removes it from every contact{total}; an undo makes it again, under a "
        "new id, and gives it back to them."
    )


def calls_left_today(client: AccountClient) -> int | None:
    """What the asking workspace may still spend today in the background, where the budget is
    shared fairly (bot/cc/budget.py), else what is left of the key's day (read-only)."""
    view = client.budget(current_caller().workspace)
    if view is not None:
        return view.workspace_left
    limiter = getattr(getattr(client, "_api", None), "limiter", None)
    left = getattr(limiter, "calls_left_today", None)
    return left if isinstance(left, int) else None
