"""Slack text both ways: what a person typed out of Slack's escaping, and text made safe to post.

Slack sends command text HTML-escaped (`&amp;`, `&lt;`, `&gt;`) with links, users and channels
in its own forms (`<mailto:a@b.com|a@b.com>`, `<@U1|name>`, `<#C1|name>`, `<https://x|label>`).
What the bot posts as mrkdwn must escape `&`, `<` and `>` in any text a person or Constant
Contact wrote, or `<!channel>` in a tag name would notify a whole channel. Sizes come from
Slack's reference: a section or context text holds 3,000 characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_SECTION = 3000
ELLIPSIS = "…"

# <target> or <target|label>; the target is a URL, mailto:, @U…, #C…, !special or !subteam^S…
_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def escape(text: str) -> str:
    """Text safe inside mrkdwn: nothing in it notifies, links or formats a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_OUR_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def safe(text: str) -> str:
    """The bot's small markup (bot/usecases/ports.py `Message`) made safe for mrkdwn.

    Everything is escaped but the `<@U…>` mentions the markup itself uses (the requester);
    so `<!channel>`, `<!here>`, links and entities in names or Constant Contact text stay text.
    The use cases place every name quoted (“…”) or bold (*…*), so a mention inside either is
    a name that looks like one (a list called `<@U123>`) and stays text too.
    """
    escaped = escape(text)
    return _OUR_MENTION.sub(lambda found: _mention_or_text(escaped, found), escaped)


def _mention_or_text(escaped: str, found: re.Match[str]) -> str:
    before = escaped[: found.start()]
    quoted = before.count("“") > before.count("”")
    bold = before.count("*") % 2 == 1
    return found.group(0) if quoted or bold else f"<@{found.group(1)}>"


def _unescape_entities(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _as_typed(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    if target[:1] in ("@", "#"):
        return f"{target[0]}{label}" if label else target  # `@ann`, `#general`, as typed
    if target.startswith("!"):
        return label if label else f"@{target[1:]}"  # `<!here>` was typed `@here`
    return target  # a URL: the URL itself, whatever label Slack showed


def as_typed(text: str) -> str:
    """Command text as the person typed it: Slack's link forms read, its escaping undone.

    `<mailto:a@b.com|a@b.com>` → `a@b.com`, `<@U1|ann>` → `@ann`, `<#C1|general>` → `#general`,
    `<https://x|label>` → `https://x`, `&amp;` → `&`. Entities are undone after the link forms
    are read, so an escaped `&lt;b&gt;` stays the text `<b>`, never a link.
    """
    return _unescape_entities(_SLACK_LINK.sub(_as_typed, text))


def shorten_names(
    names: Sequence[str], budget: int, *, quote: str = "", escaping: bool = True
) -> str:
    """`a, b, c and 4 more`, escaped, within `budget` characters (at least the count is shown).

    Each name is escaped and wrapped in `quote` (e.g. `*` for bold); names that do not fit are
    counted instead of cut, so no name is ever shown half. `escaping=False` is for the use
    cases' plain markup, which the front end escapes as it renders.
    """
    shown: list[str] = []
    for index, name in enumerate(names):
        candidate = [*shown, f"{quote}{escape(name) if escaping else name}{quote}"]
        left = len(names) - index - 1
        if len(_joined(candidate, left)) > budget:
            break
        shown = candidate
    text = _joined(shown, len(names) - len(shown))
    if len(text) <= budget:
        return text
    return f"{len(names)} names"[:budget]


def _joined(shown: list[str], left: int) -> str:
    if not shown:
        return f"{left} more" if left else ""
    if left:
        return f"{', '.join(shown)} and {left} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def fit(text: str, tail: str = "", limit: int = MAX_SECTION) -> str:
    """`text` then `tail` within `limit` characters; the tail (an id, a warning) always whole.

    Already-escaped mrkdwn is cut at a line or a space where it can be, never inside an
    entity (`&amp;`) or a Slack link (`<…>`), and marked with `…`.
    """
    if len(tail) > limit:
        raise ValueError(f"the tail alone is {len(tail)} characters, past {limit}")
    if len(text) + len(tail) <= limit:
        return text + tail
    room = limit - len(tail) - len(ELLIPSIS)
    return _cut(text, max(room, 0)) + ELLIPSIS + tail


def _cut(text: str, room: int) -> str:
    cut = text[:room]
    for opener, closer in (("&", ";"), ("<", ">")):
        start = cut.rfind(opener)
        if start != -1 and closer not in cut[start:]:
            cut = cut[:start]
    for boundary in ("\n", " "):
        at = cut.rfind(boundary)
        if at >= room // 2:
            return cut[:at].rstrip()
    return cut
