"""How a typed name finds a list, tag, segment or campaign: the one place names are folded and
picked, so that two names that look the same are never guessed between.

Names are compared folded: Unicode NFC, runs of white space as one space, case folded. When a
typed name folds like two or more names of the account, nothing is picked, even when one of them
is spelt exactly as typed: a person who typed "Newsletter" may well mean the list that Constant
Contact shows as "newsletter", and acting on the wrong contacts cannot be undone cheaply. The
refusal names every candidate with its id, and an id is always taken as it is: that is how one
of them is picked (the modals' menus pick by id too).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CANDIDATES_SHOWN = 5


def fold(name: str) -> str:
    """The form names are compared in: NFC, spaces collapsed and trimmed, case folded."""
    spaced = " ".join(unicodedata.normalize("NFC", name).split())
    return unicodedata.normalize("NFC", spaced.casefold())


@dataclass(frozen=True)
class Named:
    """One named thing of the account: its id, its name, and a count when one is known."""

    ident: str
    name: str
    count: int | None = None


@dataclass(frozen=True)
class Pick:
    """What a typed name found: exactly one thing, nothing, or several that fold alike."""

    wanted: str
    candidates: tuple[Named, ...]

    @property
    def found(self) -> Named | None:
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def pick(wanted: str, items: Iterable[Named]) -> Pick:
    """The thing `wanted` names: its id as given, else every thing whose name folds alike."""
    listed = list(items)
    typed = wanted.strip()
    by_id = [item for item in listed if item.ident == typed or item.ident == typed.lower()]
    if by_id:
        return Pick(typed, (by_id[0],))
    key = fold(typed)
    return Pick(typed, tuple(item for item in listed if fold(item.name) == key))


def ambiguity(what: str, chosen: Pick) -> str:
    """One sentence: which things answer to the name, and how to pick one."""
    shown = chosen.candidates[:CANDIDATES_SHOWN]
    described = "; ".join(_describe(item) for item in shown)
    more = len(chosen.candidates) - len(shown)
    rest = f"; and {more} more" if more > 0 else ""
    example = chosen.candidates[0].ident
    return (
        f"{len(chosen.candidates)} {what}s answer to “{chosen.wanted}” (names are compared "
        f"ignoring case and spaces): {described}{rest}. I will not guess: type one's id in place "
        f"of the name (e.g. `{example}`), pick it from the form's menu, or rename one in "
        "Constant Contact"
    )


def _describe(item: Named) -> str:
    count = "" if item.count is None else f", {item.count} contacts"
    return f"“{item.name}” (id {item.ident}{count})"


def clashing(items: Iterable[Named]) -> set[str]:
    """Ids of the things whose name folds like another's: a name alone cannot say which."""
    seen: dict[str, list[str]] = {}
    for item in items:
        seen.setdefault(fold(item.name), []).append(item.ident)
    return {ident for idents in seen.values() if len(idents) > 1 for ident in idents}


def distinct_labels(pairs: Sequence[tuple[str, str]], width: int) -> list[str]:
    """Labels for (id, name) pairs within `width` characters, told apart: a label that folds
    like another once cut (or whose names fold alike) ends with as much of its id as tells it
    from the others."""
    cut = [_clip(name, width) for _, name in pairs]
    groups: dict[str, list[str]] = {}
    for (ident, _), label in zip(pairs, cut, strict=True):
        groups.setdefault(fold(label), []).append(ident)
    labels = []
    for (ident, name), label in zip(pairs, cut, strict=True):
        group = groups[fold(label)]
        if len(group) > 1:
            tail = f" · id {ident[: _telling(group)]}"
            label = _clip(name, width - len(tail)) + tail
        labels.append(label)
    return labels


def _telling(idents: list[str]) -> int:
    """How many leading characters of each id tell them apart (at least 8)."""
    longest = max(len(ident) for ident in idents)
    size = min(8, longest)
    while size < longest and len({ident[:size] for ident in idents}) < len(set(idents)):
        size += 1
    return size


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
