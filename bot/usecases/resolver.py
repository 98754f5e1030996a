"""Names and people into ids: tags and lists by name through the catalog, emails through the
contact index, ids picked from menus back into names. Every unknown or ambiguous name is
collected before refusing. Names are folded and picked by bot/usecases/names.py only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from bot.cc.client import MAX_LISTS_PER_CONTACT_QUERY, MAX_TAGS_PER_CONTACT_QUERY, AccountClient
from bot.cc.models import Tag
from bot.mrkdwn import shorten_names
from bot.usecases.bodies import source_body
from bot.usecases.catalog import Catalog
from bot.usecases.inputs import BulkInput, DeleteInput, ListsInput, Source, SourceKind, TaggingInput
from bot.usecases.names import Named, ambiguity, clashing, fold, pick
from bot.usecases.outcomes import People, Refused, unique, unknown
from bot.usecases.people import ContactResolver, Resolution, Skipped, contacts_in
from bot.usecases.sources import CampaignMenus


def name_key(name: str) -> str:
    """What two tag or list names share when Constant Contact takes them for one name."""
    return fold(name)


def picked(
    names: Sequence[str], what: str, load: Callable[[bool], list[Named]]
) -> tuple[list[str], list[str]]:
    """Ids of the named things, and a sentence for the unknown names and each ambiguous one;
    `load(fresh)` answers the account's things (looked up once more when one is not found)."""
    items = load(False)
    picks = [pick(name, items) for name in names]
    if any(chosen.found is None for chosen in picks):
        items = load(True)  # created a moment ago? look once more
        picks = [pick(name, items) for name in names]
    missing = [chosen.wanted for chosen in picks if not chosen.candidates]
    refusals = [unknown(what, missing)] if missing else []
    refusals += [ambiguity(what, chosen) for chosen in picks if chosen.ambiguous]
    ids = [chosen.found.ident for chosen in picks if chosen.found is not None]
    return unique(ids), refusals


def _shown(items: list[Named]) -> dict[str, str]:
    """Ids picked from a menu become names, save where a name alone could not say which."""
    unclear = clashing(items)
    return {item.ident: item.name for item in items if item.ident not in unclear}


def similar_key(name: str) -> str:
    """What names that differ only in case, spaces or punctuation share."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(char for char in folded if char.isalnum()) or name_key(name)


def similar_groups(tags: Sequence[Tag]) -> list[list[Tag]]:
    """Groups of two tags or more whose names differ only in case, spaces or punctuation."""
    groups: dict[str, list[Tag]] = {}
    for tag in tags:
        groups.setdefault(similar_key(tag.name), []).append(tag)
    found = [sorted(group, key=lambda tag: tag.name) for group in groups.values()]
    return sorted((g for g in found if len(g) > 1), key=lambda g: name_key(g[0].name))


def tag_named(catalog: Catalog, workspace_id: str, client: AccountClient, name: str) -> Tag:
    """From the cached catalog, looked up once more before saying it is unknown."""
    tags: dict[str, Tag] = {}

    def load(fresh: bool) -> list[Named]:
        tags.clear()
        tags.update({t.tag_id: t for t in catalog.tags(workspace_id, client, fresh=fresh)})
        return [Named(t.tag_id, t.name, t.contacts_count) for t in tags.values()]

    ids, refusals = picked([name], "tag", load)
    if refusals:
        raise Refused("; ".join(refusals))
    return tags[ids[0]]


def named(
    catalog: Catalog, menus: CampaignMenus, workspace_id: str, client: AccountClient, inp: BulkInput
) -> BulkInput:
    """Ids picked from a menu replaced by names (an id no longer known stays, and is then
    reported unknown)."""
    tags = _shown([Named(t.tag_id, t.name) for t in catalog.tags(workspace_id, client)])
    if isinstance(inp, DeleteInput):
        return DeleteInput(tuple(tags.get(i, i) for i in inp.tag_names))
    lists: dict[str, str] = {}
    if isinstance(inp, ListsInput) or inp.source.kind == SourceKind.LISTS:
        lists = _shown([Named(x.list_id, x.name) for x in catalog.lists(workspace_id, client)])
    source = inp.source
    if source.kind in (SourceKind.TAGS, SourceKind.LISTS):
        names = tags if source.kind == SourceKind.TAGS else lists
        source = Source(source.kind, tuple(names.get(i, i) for i in source.values))
    if source.kind.is_campaign:
        source = Source(source.kind, menus.picked(source.values))
    if isinstance(inp, ListsInput):
        targets = tuple(lists.get(i, i) for i in inp.list_names)
        return ListsInput(inp.action, targets, source, inp.exclude)
    targets = tuple(tags.get(i, i) for i in inp.tag_names)
    return TaggingInput(inp.action, targets, source, inp.exclude)


class Resolver:
    """Resolves names through the catalog and emails through the contact index; collects
    every unknown name before refusing."""

    def __init__(
        self, catalog: Catalog, workspace_id: str, client: AccountClient, people: ContactResolver
    ) -> None:
        self._catalog = catalog
        self._workspace = workspace_id
        self._client = client
        self._people = people
        self._unknown: list[str] = []
        self.people: People | None = None

    def tags(self, names: Sequence[str]) -> list[str]:
        return self._by_name(names, "tag", self._tag_ids)

    def lists(self, names: Sequence[str]) -> list[str]:
        return self._by_name(names, "list", self._list_ids)

    def _tag_ids(self, fresh: bool) -> list[Named]:
        tags = self._catalog.tags(self._workspace, self._client, fresh=fresh)
        return [Named(tag.tag_id, tag.name, tag.contacts_count) for tag in tags]

    def _list_ids(self, fresh: bool) -> list[Named]:
        lists = self._catalog.lists(self._workspace, self._client, fresh=fresh)
        return [Named(found.list_id, found.name) for found in lists]

    def _by_name(
        self, names: Sequence[str], what: str, load: Callable[[bool], list[Named]]
    ) -> list[str]:
        ids, refusals = picked(names, what, load)
        self._unknown.extend(refusals)
        return ids

    def _resolve(self, values: Sequence[str]) -> tuple[list[str], Resolution]:
        """Contact ids as named, and the emails resolved through the contact index."""
        named = contacts_in(", ".join(values))
        key = self._client.account_key
        resolution = self._people.resolve(self._client, named.emails, account_key=key)
        # An id the account does not hold is refused here, before any message is posted.
        check = self._people.check_ids(self._client, named.contact_ids, account_key=key)
        if check.unknown:
            word = "id" if len(check.unknown) == 1 else "ids"
            shown = shorten_names(check.unknown, 600)
            self._unknown.append(f"No contact in this account has the {word} {shown}")
        resolution.calls += check.calls
        resolution.skipped += [Skipped(email=i, contact_id=i, reason=r) for i, r in check.skipped]
        return check.found, resolution

    def contacts(self, values: Sequence[str]) -> list[str]:
        """The taggable contacts: ids as given, emails found; unknown and skipped ones are
        told in the preview, and refused only when nothing is left."""
        ids, resolution = self._resolve(values)
        found = unique([*ids, *resolution.contact_ids])
        skipped = tuple((s.email, s.reason) for s in resolution.skipped)
        self.people = People(len(found), tuple(resolution.not_found), skipped, resolution.calls)
        if not found:
            self._unknown.append(_nobody(resolution))
        return found

    def excluded(self, values: Sequence[str]) -> list[str]:
        """Excluded contacts (skipped ones too: they are contacts); an unknown email is refused."""
        if not values:
            return []
        ids, resolution = self._resolve(values)
        if resolution.not_found:
            word = "email" if len(resolution.not_found) == 1 else "emails"
            shown = shorten_names(resolution.not_found, 600)
            self._unknown.append(f"No excluded contact with the {word} {shown}")
        skipped = [s.contact_id for s in resolution.skipped]
        return unique([*ids, *resolution.contact_ids, *skipped])

    def source(self, source: Source) -> dict[str, Any]:
        if source.kind in CONTACT_SOURCES:
            return {"contact_ids": CONTACT_SOURCES[source.kind](self, source.values)}
        if source.kind == SourceKind.LISTS:
            return {"list_ids": self.lists(source.values)}
        if source.kind == SourceKind.TAGS:
            return {"tag_ids": self.tags(source.values)}
        return source_body(source)

    def raise_unknown(self) -> None:
        if self._unknown:
            raise Refused("; ".join(self._unknown))


# Sources resolved here to contact ids, then split into activities like any list of contacts
# (`bodies.split`): the one place a new source of people plugs in (a campaign's clickers, a
# segment's members). Each takes the resolver (its client, its `people` for the preview) and
# the source's values, and answers the contact ids to act on.
ContactSource = Callable[[Resolver, Sequence[str]], list[str]]
CONTACT_SOURCES: dict[SourceKind, ContactSource] = {
    SourceKind.CONTACTS: Resolver.contacts,
}


def _nobody(resolution: Resolution) -> str:
    """No contact to act on: say what the emails were."""
    parts = []
    if resolution.not_found:
        word = "email" if len(resolution.not_found) == 1 else "emails"
        shown = shorten_names(resolution.not_found, 600)
        parts.append(f"No contact with the {word} {shown}")
    if resolution.skipped:
        shown = shorten_names([f"{s.email} ({s.reason})" for s in resolution.skipped], 600)
        parts.append(f"skipped as unsubscribed or deleted: {shown}")
    return "; ".join(parts) or "Name at least one contact: an email or a contact id"


def count(
    client: AccountClient, kind: SourceKind, source: dict[str, Any], excluded: int
) -> int | None:
    """How many contacts the source holds (one call), or None when the API cannot say."""
    if "contact_ids" in source:  # named, or found in a campaign's reports or a segment
        return len(source["contact_ids"])
    if kind == SourceKind.LISTS and len(source["list_ids"]) <= MAX_LISTS_PER_CONTACT_QUERY:
        total = client.count_contacts(list_ids=source["list_ids"])
    elif kind == SourceKind.TAGS and len(source["tag_ids"]) <= MAX_TAGS_PER_CONTACT_QUERY:
        total = client.count_contacts(tag_ids=source["tag_ids"])
    elif kind == SourceKind.ALL_ACTIVE:
        total = client.count_contacts(status="active")
    else:
        return None
    return max(total - excluded, 0)
