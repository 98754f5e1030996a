"""A bulk request in words: the summary that the parent message, the audit and the thread use."""

from __future__ import annotations

from bot.usecases.bodies import CAMPAIGN_SOURCES
from bot.usecases.inputs import BulkInput, DeleteInput, Source, SourceKind, TaggingInput
from bot.usecases.outcomes import plural, quoted


def describe_source(source: Source) -> str:
    values = list(source.values)
    words = {
        SourceKind.CONTACTS: lambda: (
            f"the contacts {quoted(values)}"
            if len(values) <= 3
            else plural(len(values), "named contact")
        ),
        SourceKind.LISTS: lambda: (
            f"contacts on {'list' if len(values) == 1 else 'lists'} " + quoted(values)
        ),
        SourceKind.TAGS: lambda: f"contacts tagged {quoted(values)}",
        SourceKind.ALL_ACTIVE: lambda: "all active contacts",
        SourceKind.NEW_SUBSCRIBERS: lambda: "new subscribers",
        SourceKind.ENGAGEMENT: lambda: f"contacts with {values[0] if values else '?'} engagement",
        SourceKind.SEGMENT: lambda: f"contacts in segment {values[0] if values else '?'}",
        **{kind: lambda: _campaign_words(source) for kind in CAMPAIGN_SOURCES},
    }
    return words[source.kind]()


def _campaign_words(source: Source) -> str:
    campaign = f"“{source.values[0]}”" if source.values else "?"
    verbs = {
        SourceKind.CLICKED: f"clicked {source.link}" if source.link else "clicked a link",
        SourceKind.OPENED: "opened",
        SourceKind.NOT_OPENED: "did not open",
        SourceKind.BOUNCED: "bounced",
    }
    return f"contacts who {verbs[source.kind]} in {campaign}"


def summarize(inp: BulkInput) -> str:
    if isinstance(inp, DeleteInput):
        return f"delete tags {quoted(inp.tag_names)}"
    source = describe_source(inp.source)
    if inp.exclude:
        source += f", except {plural(len(inp.exclude), 'contact')}"
    if isinstance(inp, TaggingInput):
        tags = ("tag " if len(inp.tag_names) == 1 else "tags ") + quoted(inp.tag_names)
        if inp.action == "add":
            return f"add {tags} to {source}"
        return f"remove {tags} from {source}"
    lists = ("list " if len(inp.list_names) == 1 else "lists ") + quoted(inp.list_names)
    if inp.action == "add":
        return f"add {source} to {lists}"
    return f"remove {source} from {lists}"
