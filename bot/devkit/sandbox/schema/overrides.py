"""The published contract's known faults, each corrected by name rather than edited silently.

Every override names where it applies (a JSON pointer into the vendored cut), the value the
contract publishes there and the value that holds, and why. `apply` refuses to run when the
published value is no longer there: a re-vendored contract that fixed the fault (or moved it)
then fails loudly, and the override can be dropped or moved.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Override:
    name: str
    pointer: str  # a JSON pointer into the contract, e.g. /definitions/Tag/properties/name
    published: Any
    corrected: Any
    why: str


class StaleOverride(RuntimeError):
    """The contract no longer says what an override corrects."""


_REMOVE = "/definitions/ListActivityRemoveContacts/properties"
_ADD = "/definitions/ListActivityAddContacts/properties"
_DESCRIBED = "its description says up to {n}; maxItems 0 would refuse every non-empty array"

OVERRIDES: tuple[Override, ...] = (
    Override(
        "remove_list_memberships: target list_ids",
        f"{_REMOVE}/list_ids/maxItems",
        0,
        50,
        _DESCRIBED.format(n=50),
    ),
    Override(
        "remove_list_memberships: source.contact_ids",
        f"{_REMOVE}/source/properties/contact_ids/maxItems",
        0,
        500,
        _DESCRIBED.format(n=500),
    ),
    Override(
        "remove_list_memberships: source.list_ids",
        f"{_REMOVE}/source/properties/list_ids/maxItems",
        0,
        50,
        _DESCRIBED.format(n=50),
    ),
    Override(
        "remove_list_memberships: source.tag_ids",
        f"{_REMOVE}/source/properties/tag_ids/maxItems",
        0,
        50,
        "the add endpoint's tag source and the guide allow 50 tags; maxItems 0 refuses any",
    ),
    Override(
        "add_list_memberships: source.tag_ids",
        f"{_ADD}/source/properties/tag_ids/maxItems",
        0,
        50,
        "the guide allows 50 source tags; maxItems 0 would refuse every non-empty array",
    ),
)


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def lookup(document: Any, pointer: str) -> Any:
    node = document
    for part in _parts(pointer):
        node = node[part]
    return node


def apply(document: dict[str, Any], overrides: tuple[Override, ...] = OVERRIDES) -> dict[str, Any]:
    """A copy of `document` with every override applied."""
    corrected = copy.deepcopy(document)
    for override in overrides:
        *parents, leaf = _parts(override.pointer)
        node: Any = corrected
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                raise StaleOverride(f"{override.name}: {override.pointer} is not in the contract")
        if node.get(leaf) != override.published:
            raise StaleOverride(
                f"{override.name}: the contract says {node.get(leaf)!r} at {override.pointer}, "
                f"not {override.published!r}"
            )
        node[leaf] = override.corrected
    return corrected
