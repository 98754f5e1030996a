"""Slack's documented sizes and counts, checked the way Slack refuses them.

slack_sdk's Block Kit models do most of the work: `Block.parse(...).to_dict()` and
`View(...).to_dict()` run every validator down the tree (`validate_json()` alone checks one
level only). What they miss is checked here: text inside a `context` block, any text object
past 3,000 characters, 50 blocks in a message, a view's 250 kB, and options answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, Option, OptionGroup
from slack_sdk.models.views import View

MAX_TEXT_OBJECT = 3000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_VIEW_BYTES = 250_000
MAX_OPTIONS = 100
TEXT_TYPES = ("plain_text", "mrkdwn")


class SlackRefusal(Exception):
    """What Slack answers `{"ok": false, "error": ...}` with (`detail` goes in its messages)."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error
        self.detail = detail


def _loaded(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackRefusal("invalid_arguments", "not JSON") from None
    return value


def text_objects(tree: Any) -> Iterator[dict[str, Any]]:
    """Every text object (`plain_text`/`mrkdwn` with a string `text`) anywhere in `tree`."""
    if isinstance(tree, dict):
        if tree.get("type") in TEXT_TYPES and isinstance(tree.get("text"), str):
            yield tree
        for value in tree.values():
            yield from text_objects(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from text_objects(item)


def _check_text_objects(blocks: list[Any], error: str) -> None:
    for found in text_objects(blocks):
        if len(found["text"]) > MAX_TEXT_OBJECT:
            raise SlackRefusal(error, f"a text object is {len(found['text'])} characters")
        if found["type"] == "plain_text" and not found["text"]:
            raise SlackRefusal(error, "an empty plain_text object")


def check_blocks(blocks: Any, *, most: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    """A message's (or a view's) blocks as Slack would take them; `invalid_blocks` otherwise."""
    if blocks in (None, "", []):
        return []
    blocks = _loaded(blocks)
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise SlackRefusal("invalid_blocks", "blocks must be a list of objects")
    if len(blocks) > most:
        raise SlackRefusal("invalid_blocks", f"{len(blocks)} blocks, at most {most}")
    for block in blocks:
        try:
            parsed = Block.parse(block)
            if parsed is None:
                raise SlackRefusal("invalid_blocks", f"unknown block type {block.get('type')!r}")
            parsed.to_dict()
        except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
            raise SlackRefusal("invalid_blocks", str(exc)) from exc
    _check_text_objects(blocks, "invalid_blocks")
    return list(blocks)


def check_view(view: Any) -> dict[str, Any]:
    """A modal or Home tab view; Slack answers `invalid_arguments` for a malformed one."""
    view = _loaded(view)
    if not isinstance(view, dict):
        raise SlackRefusal("invalid_arguments", "view must be an object")
    if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
        raise SlackRefusal("invalid_arguments", "the view is over 250 kB")
    try:
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
        raise SlackRefusal("invalid_arguments", str(exc)) from exc
    try:
        check_blocks(view.get("blocks"), most=MAX_VIEW_BLOCKS)
    except SlackRefusal as refusal:
        raise SlackRefusal("invalid_arguments", refusal.detail) from refusal
    return view


def check_message_text(text: Any) -> str:
    """Slack keeps the first 40,000 characters of a message's `text` and drops the rest."""
    return str(text or "")[:MAX_MESSAGE_TEXT]


def _options(options: Any) -> list[Option]:
    if not isinstance(options, list) or len(options) > MAX_OPTIONS:
        raise SlackRefusal("invalid_arguments", f"at most {MAX_OPTIONS} options")
    return [Option(**option) for option in options]


def check_options_answer(answer: Any) -> dict[str, Any]:
    """The body an app answers an options (block_suggestion) request with."""
    answer = _loaded(answer)
    if not isinstance(answer, dict) or not ({"options", "option_groups"} & answer.keys()):
        raise SlackRefusal("invalid_arguments", "an options answer needs options")
    try:
        if "options" in answer:
            for option in _options(answer["options"]):
                option.to_dict("block")
        groups = answer.get("option_groups")
        if groups is not None:
            if not isinstance(groups, list) or len(groups) > MAX_OPTIONS:
                raise SlackRefusal("invalid_arguments", f"at most {MAX_OPTIONS} option groups")
            for group in groups:
                OptionGroup(
                    label=group.get("label"), options=_options(group.get("options"))
                ).to_dict("block")
    except (SlackObjectFormationError, TypeError, AttributeError) as exc:
        raise SlackRefusal("invalid_arguments", str(exc)) from exc
    return answer
