"""The one-line forms of /cctag (see CONTRACT.md), text in, plain use-case inputs out.

Names are separated by commas and may be quoted ("Donor, 2025" keeps its comma); Slack's
smart quotes count as quotes. Options start with `--` after a space. Slack's own markup
(`<mailto:a@b.c|a@b.c>`, `&amp;`) is undone first.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.usecases import Action, BulkRequest, Source, SourceKind, sources_for

OPEN_QUOTES = {'"': '"', "“": "”", "”": "”", "„": "“"}
SLACK_LINK = re.compile(r"<(?:mailto:)?([^|>]*)(?:\|([^>]*))?>")

SOURCE_FLAGS = {
    "--contacts": SourceKind.CONTACTS,
    "--lists": SourceKind.LISTS,
    "--tags": SourceKind.TAGS,
    "--all-active": SourceKind.ALL_ACTIVE,
    "--new-subscribers": SourceKind.NEW_SUBSCRIBERS,
    "--engagement": SourceKind.ENGAGEMENT,
    "--segment": SourceKind.SEGMENT,
}
FLAG_FOR_SOURCE = {kind: flag for flag, kind in SOURCE_FLAGS.items()}
BULK_ACTIONS = {
    "add": Action.ADD_TAGS,
    "remove": Action.REMOVE_TAGS,
    "lists": Action.ADD_TO_LISTS,
    "unlists": Action.REMOVE_FROM_LISTS,
}


class ParseError(ValueError):
    """The command line cannot be understood; the message says how to write it."""


@dataclass(frozen=True)
class Flag:
    name: str
    values: tuple[str, ...]


def unslack(text: str) -> str:
    """Slack's escaping and auto-links back to what the user typed."""
    text = SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return html.unescape(text)


def split_command(text: str) -> tuple[str, str]:
    """(`add`, `VIP --lists Newsletter`) from `add VIP --lists Newsletter`."""
    text = unslack(text).strip()
    name, _, rest = text.partition(" ")
    return name.lower(), rest.strip()


def _split(text: str, at_comma: bool) -> list[str]:
    """Split at commas (or `--flags`) outside quotes; quotes are removed."""
    parts: list[str] = []
    current: list[str] = []
    closing: str | None = None
    for char in text:
        if closing is not None:
            if char == closing or (closing == "”" and char == '"'):
                closing = None
            else:
                current.append(char)
        elif char in OPEN_QUOTES:
            closing = OPEN_QUOTES[char]
        elif at_comma and char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if closing is not None:
        raise ParseError("A quote is not closed")
    parts.append("".join(current))
    return parts


def names(segment: str) -> list[str]:
    """`VIP, "Donor, 2025"` → ["VIP", "Donor, 2025"]."""
    found = [part.strip() for part in _split(segment, at_comma=True)]
    return [name for name in found if name]


def _inside_quotes(text: str) -> bool:
    try:
        _split(text, at_comma=False)
    except ParseError:
        return True
    return False


def parse_flags(text: str, allowed: set[str]) -> tuple[str, list[Flag]]:
    head, raw = _split_quoted_flags(text)
    flags = []
    for name, value in raw:
        if name not in allowed:
            takes = ", ".join(sorted(allowed)) or "no options"
            raise ParseError(f"Unknown option {name}; this command takes {takes}")
        flags.append(Flag(name, tuple(names(value))))
    return head, flags


def _split_quoted_flags(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Like _segments, but a `--word` inside quotes is part of a name, not an option."""
    if _inside_quotes(text):
        raise ParseError("A quote is not closed")
    pieces: list[tuple[str | None, list[str]]] = [(None, [])]
    closing: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        at_word_start = i == 0 or text[i - 1].isspace()
        if closing is None and at_word_start and text.startswith("--", i):
            match = re.match(r"--[a-z][a-z-]*(?=\s|$)", text[i:])
            if match:
                pieces.append((match.group(0), []))
                i += len(match.group(0))
                continue
        if closing is not None and (char == closing or (closing == "”" and char == '"')):
            closing = None
        elif closing is None and char in OPEN_QUOTES:
            closing = OPEN_QUOTES[char]
        pieces[-1][1].append(char)
        i += 1
    head = "".join(pieces[0][1]).strip()
    return head, [(str(name), "".join(chars)) for name, chars in pieces[1:]]


# ---------------------------------------------------------------------- commands


def usage(action: Action) -> str:
    word = next(name for name, value in BULK_ACTIONS.items() if value is action)
    what = "list" if action.targets_lists else "tag"
    flags = " | ".join(
        FLAG_FOR_SOURCE[kind] + ("" if not kind.takes_values else " …")
        for kind in sources_for(action)
    )
    return f"`/cctag {word} <{what}>[, <{what}>…] <{flags}> [--exclude <email>[, …]]`"


def parse_bulk(action: Action, text: str) -> BulkRequest:
    allowed = {FLAG_FOR_SOURCE[kind] for kind in sources_for(action)} | {"--exclude"}
    try:
        head, flags = parse_flags(text, allowed)
    except ParseError as exc:
        raise ParseError(f"{exc}. Write it as {usage(action)}") from None
    targets = names(head)
    if not targets:
        what = "list" if action.targets_lists else "tag"
        raise ParseError(f"Name at least one {what}: {usage(action)}")
    sources = [flag for flag in flags if flag.name in SOURCE_FLAGS]
    excludes = [flag for flag in flags if flag.name == "--exclude"]
    source = _one_source(action, sources)
    exclude = tuple(email for flag in excludes for email in flag.values)
    if excludes and not exclude:
        raise ParseError("--exclude needs at least one email")
    return BulkRequest(action, tuple(targets), source, exclude)


def _one_source(action: Action, sources: list[Flag]) -> Source:
    if len(sources) != 1:
        given = ", ".join(flag.name for flag in sources) or "none"
        raise ParseError(f"Give exactly one source of contacts (got {given}): {usage(action)}")
    flag = sources[0]
    kind = SOURCE_FLAGS[flag.name]
    if kind.takes_values and not flag.values:
        raise ParseError(f"{flag.name} needs a value: {usage(action)}")
    if not kind.takes_values and flag.values:
        raise ParseError(f"{flag.name} takes no value")
    if kind in (SourceKind.ENGAGEMENT, SourceKind.SEGMENT) and len(flag.values) != 1:
        raise ParseError(f"{flag.name} takes exactly one value")
    return Source(kind, flag.values)


def parse_delete(text: str) -> list[str]:
    head, _ = parse_flags(text, set())
    found = names(head)
    if not found:
        raise ParseError("Name the tags to delete: `/cctag delete <tag>[, <tag>…]`")
    return found


def parse_create(text: str) -> tuple[str, str | None]:
    head, flags = parse_flags(text, {"--source"})
    found = names(head)
    if len(found) != 1:
        raise ParseError(
            "Name one tag: `/cctag create <tag name> [--source <label>]` "
            "(quote a name that holds a comma)"
        )
    label = ", ".join(value for flag in flags for value in flag.values) or None
    return found[0], label
