"""The one-line forms of /cctag (the README's "In Slack" table): names separated by commas,
quoted names, flags. Slack and the shell read the same lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.usecases.inputs import (
    Action,
    BulkInput,
    DeleteInput,
    ListsInput,
    Source,
    SourceKind,
    TaggingInput,
)

# Straight and typographic double quotes (Slack clients may turn " into “ ”).
OPEN_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c"}
SOURCE_FLAGS = {f"--{kind.value}": kind for kind in SourceKind}
LIST_ONLY_SOURCES = {SourceKind.ENGAGEMENT}
# One name each, commas and all: a campaign or segment name may hold a comma.
SINGLE_NAME_SOURCES = {SourceKind.SEGMENT} | {kind for kind in SourceKind if kind.is_campaign}
LINK_FLAG = "--link"


class ParseError(ValueError):
    """The command line cannot be read; the message says why and how to write it."""


@dataclass(frozen=True)
class Command:
    name: str
    rest: str


def split_command(text: str) -> Command:
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    return Command(head.lower() or "help", rest.strip())


def split_names(text: str) -> list[str]:
    """`VIP, "Donor, 2025", Board` → ["VIP", "Donor, 2025", "Board"]."""
    names: list[str] = []
    current: list[str] = []
    closing: str | None = None
    quoted = False
    for char in text:
        if closing is not None:
            if char == closing:
                closing = None
            else:
                current.append(char)
        elif char in OPEN_QUOTES and not "".join(current).strip():
            closing, quoted = OPEN_QUOTES[char], True
            current = []
        elif char == ",":
            names.append(_finish(current, quoted))
            current, quoted = [], False
        else:
            current.append(char)
    if closing is not None:
        raise ParseError(f"A quote is not closed in: {text.strip()}")
    names.append(_finish(current, quoted))
    if any(not name for name in names):
        raise ParseError(f"An empty name between commas in: {text.strip()}")
    return names


def _finish(chars: list[str], quoted: bool) -> str:
    text = "".join(chars)
    return text if quoted and text.strip() else text.strip()


def split_flags(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Text before the first flag, then (flag, its text) pairs; flags inside quotes are names."""
    segments: list[tuple[str, list[str]]] = [("", [])]
    closing: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        at_word_start = i == 0 or text[i - 1].isspace()
        if closing is None and at_word_start and text.startswith("--", i):
            end = i
            while end < len(text) and not text[end].isspace():
                end += 1
            segments.append((text[i:end].lower(), []))
            i = end
            continue
        if closing is not None and char == closing:
            closing = None
        elif closing is None and char in OPEN_QUOTES and _opens(text, i):
            closing = OPEN_QUOTES[char]
        segments[-1][1].append(char)
        i += 1
    head = "".join(segments[0][1]).strip()
    return head, [(flag, "".join(chars).strip()) for flag, chars in segments[1:]]


def _opens(text: str, i: int) -> bool:
    """A quote opens a name only at its start (after a space or a comma)."""
    before = text[:i].rstrip()
    return i == 0 or text[i - 1].isspace() or not before or before.endswith(",")


@dataclass(frozen=True)
class BulkLine:
    names: tuple[str, ...]
    source: Source
    exclude: tuple[str, ...]


def parse_bulk(rest: str, *, what: str, lists: bool) -> BulkLine:
    head, flags = split_flags(rest)
    if not head:
        raise ParseError(f"Name at least one {what} before the source")
    names = tuple(split_names(head))
    sources: list[Source] = []
    exclude: tuple[str, ...] = ()
    links: list[str] = []
    for flag, value in flags:
        if flag == "--exclude":
            if exclude:
                raise ParseError("Give --exclude once, with the emails separated by commas")
            exclude = _values(flag, value)
        elif flag == LINK_FLAG:
            links.append(_single(flag, value))
        elif flag in SOURCE_FLAGS:
            sources.append(_source(SOURCE_FLAGS[flag], flag, value, lists))
        else:
            raise ParseError(f"Unknown option {flag}; {_sources_hint(lists)}")
    if len(sources) != 1:
        got = "none" if not sources else ", ".join(f"--{s.kind.value}" for s in sources)
        hint = _sources_hint(lists)
        raise ParseError(f"Choose exactly one source of contacts (got {got}); {hint}")
    return BulkLine(names, _with_link(sources[0], links), exclude)


def _with_link(source: Source, links: list[str]) -> Source:
    if not links:
        return source
    if source.kind != SourceKind.CLICKED:
        raise ParseError("--link only narrows --clicked <campaign> to the clicks of one link")
    if len(links) > 1:
        raise ParseError("Give --link once, with one link's URL")
    return Source(source.kind, (*source.values, links[0]))


def _single(flag: str, value: str) -> str:
    name = parse_single_name(value)
    if not name:
        raise ParseError(f"{flag} needs a value")
    return name


def _source(kind: SourceKind, flag: str, value: str, lists: bool) -> Source:
    if kind in LIST_ONLY_SOURCES and not lists:
        raise ParseError(f"{flag} only works with /cctag lists and /cctag unlists")
    if not kind.takes_values:
        if value:
            raise ParseError(f"{flag} takes no value, but got: {value}")
        return Source(kind)
    if kind in SINGLE_NAME_SOURCES:
        return Source(kind, (_single(flag, value),))
    values = _values(flag, value)
    if kind in LIST_ONLY_SOURCES and len(values) != 1:
        raise ParseError(f"{flag} takes exactly one value")
    return Source(kind, values)


def _values(flag: str, value: str) -> tuple[str, ...]:
    if not value:
        raise ParseError(f"{flag} needs a value")
    return tuple(split_names(value))


def _sources_hint(lists: bool) -> str:
    extra = ", --engagement <unqualified|low|medium|high>" if lists else ""
    return (
        "the source is one of --contacts <emails>, --lists <lists>, --tags <tags>, "
        f"--all-active, --new-subscribers{extra}, --segment <name or id>, "
        "--clicked <campaign> [--link <url>], --opened <campaign>, --not-opened <campaign>, "
        "--bounced <campaign>"
    )


def parse_tagging(action: str, rest: str) -> TaggingInput:
    line = parse_bulk(rest, what="tag", lists=False)
    mode: Action = "add" if action == "add" else "remove"
    return TaggingInput(mode, line.names, line.source, line.exclude)


def parse_lists(action: str, rest: str) -> ListsInput:
    line = parse_bulk(rest, what="list", lists=True)
    mode: Action = "add" if action == "lists" else "remove"
    return ListsInput(mode, line.names, line.source, line.exclude)


def parse_delete(rest: str) -> DeleteInput:
    head, flags = split_flags(rest)
    if flags:
        raise ParseError(f"/cctag delete takes only tag names, not {flags[0][0]}")
    if not head:
        raise ParseError("Name at least one tag to delete")
    return DeleteInput(tuple(split_names(head)))


def parse_create(rest: str) -> tuple[str, str | None]:
    """`create VIP 2026 --source "Spring fair"` → ("VIP 2026", "Spring fair")."""
    name_part, flag, source_part = rest.partition("--source")
    source = parse_single_name(source_part) if flag else None
    if flag and not source:
        raise ParseError("`--source` needs a label: `/cctag create <tag> --source <label>`")
    return parse_single_name(name_part), source


def parse_single_name(rest: str) -> str:
    """`create "Donor, 2025"` or `create Donor 2025`: the whole rest is one name."""
    text = rest.strip()
    if text and text[0] in OPEN_QUOTES:
        names = split_names(text)
        if len(names) != 1:
            raise ParseError("Create one tag at a time; quote a name that holds a comma")
        return names[0]
    return text


RENAME_SYNTAX = "`/cctag rename <tag> --to <new name>`"


def _names_and_one_flag(
    rest: str, flag: str, named: str, given: str, syntax: str
) -> tuple[str, str]:
    """`<names> <flag> <name>`, the flag exactly once: the words before it and its one name.
    `named` says what the words before name, `given` what the flag gives."""
    head, flags = split_flags(rest)
    if not head:
        raise ParseError(f"Name {named}: {syntax}")
    if [found for found, _ in flags] != [flag]:
        raise ParseError(f"Give {given} once, after {flag}: {syntax}")
    value = parse_single_name(flags[0][1])
    if not value:
        raise ParseError(f"`{flag}` needs {given}: {syntax}")
    return head, value


def parse_rename(rest: str) -> tuple[str, str]:
    """`rename "Donor, 2025" --to Donor 2026` → ("Donor, 2025", "Donor 2026")."""
    head, new_name = _names_and_one_flag(
        rest, "--to", "the tag to rename", "the new name", RENAME_SYNTAX
    )
    return parse_single_name(head), new_name


def parse_undo(rest: str) -> str:
    """`undo <activity or job id>`: the id as typed (checked against what cctag knows later)."""
    parts = rest.split()
    if len(parts) != 1:
        raise ParseError("Say which change to undo: `/cctag undo <activity or job id>`")
    return parts[0]


def parse_bulk_line(name: str, rest: str) -> BulkInput:
    """add, remove, delete, lists or unlists, from the words after the command's name."""
    if name == "delete":
        return parse_delete(rest)
    if name in ("lists", "unlists"):
        return parse_lists(name, rest)
    return parse_tagging(name, rest)


MERGE_SYNTAX = "`/cctag merge <tag>[, <tag>...] --into <tag>`"


def parse_merge(rest: str) -> tuple[tuple[str, ...], str]:
    """`merge vip, "V.I.P." --into VIP` → (("vip", "V.I.P."), "VIP")."""
    head, target = _names_and_one_flag(
        rest, "--into", "the tags to merge", "the tag they become", MERGE_SYNTAX
    )
    return tuple(split_names(head)), target


def parse_tags_flags(rest: str) -> bool:
    """`tags` or `tags --similar`: True when the similar names are asked for."""
    words = rest.strip().lower()
    if words not in ("", "--similar"):
        raise ParseError("`/cctag tags` takes nothing, or `--similar`")
    return words == "--similar"


APPROVAL_ID_CHARS = frozenset("0123456789abcdef")


def _approval_id(text: str, usage: str) -> tuple[str, str]:
    """`<id> [rest]`: the request's id (hexadecimal, as the request shows it) and the rest."""
    ident, _, rest = text.strip().partition(" ")
    ident = ident.strip("`").lower()
    if not ident:
        raise ParseError(f"Say which request: `{usage}`")
    if not set(ident) <= APPROVAL_ID_CHARS or len(ident) > 16:
        raise ParseError(f"“{ident[:20]}” is not a request id (the request shows it)")
    return ident, " ".join(rest.split())


def parse_approve(text: str) -> str:
    """`approve <id>`."""
    ident, rest = _approval_id(text, "approve <id>")
    if rest:
        raise ParseError("`approve` takes only the request's id")
    return ident


def parse_deny(text: str) -> tuple[str, str]:
    """`deny <id> <reason>`: the reason is required (the requester is told it)."""
    ident, reason = _approval_id(text, "deny <id> <reason>")
    if not reason:
        raise ParseError("Say why: `deny <id> <reason>` (the requester is told it)")
    return ident, reason


# ---------------------------------------------------------------- rules

EVERY_SYNTAX = "`/cctag every <day|weekday|monday…|month on <1-28>> at <HH:MM> <command>`"
RULE_COMMANDS = ("add", "remove", "lists", "unlists")
RULE_ACTIONS = ("pause", "resume", "delete")
_EVERY = re.compile(r"^(?P<when>.+?)\s+at\s+(?P<clock>\S+)(?:\s+(?P<command>.*))?$", re.I | re.S)


@dataclass(frozen=True)
class Every:
    """`every monday at 09:00 add VIP --lists Donors` → ("monday at 09:00", "add VIP ...")."""

    when: str
    line: str

    @property
    def command(self) -> str:
        return split_command(self.line).name


def parse_every(rest: str) -> Every:
    found = _EVERY.match(rest.strip())
    if found is None:
        raise ParseError(f"Say when and what: {EVERY_SYNTAX}")
    line = (found["command"] or "").strip()
    head = split_command(line)
    if not line or head.name not in RULE_COMMANDS:
        raise ParseError(
            f"A rule runs an `add`, `remove`, `lists` or `unlists` line: {EVERY_SYNTAX}"
        )
    if not head.rest:
        raise ParseError(f"Give `{head.name}` its names and source, as in one line")
    return Every(f"{found['when'].strip()} at {found['clock']}", f"{head.name} {head.rest}")


def parse_rule_action(rest: str) -> tuple[str, int]:
    """`pause 3` → ("pause", 3)."""
    verb, _, ident = rest.strip().partition(" ")
    verb, ident = verb.lower(), ident.strip().lstrip("#")
    if verb not in RULE_ACTIONS:
        raise ParseError("Say `/cctag rule pause <id>`, `rule resume <id>` or `rule delete <id>`")
    if not ident.isdigit():
        raise ParseError(
            f"Say which rule by its number: `/cctag rule {verb} <id>` (see `/cctag rules`)"
        )
    return verb, int(ident)
