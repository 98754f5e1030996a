"""The Slack text toolkit: reading command text as typed, escaping, shortening, fitting."""

from __future__ import annotations

import pytest

from bot.mrkdwn import MAX_SECTION, as_typed, escape, fit, shorten_names


def test_escape_leaves_nothing_that_pings_or_links() -> None:
    assert escape("<!channel> & <@U1> <https://x|y>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )
    assert escape("&amp;") == "&amp;amp;", "an entity typed as text stays text"


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("R&amp;D", "R&D"),
        ("&lt;b&gt; tag", "<b> tag"),
        ("--contacts <mailto:a@b.com|a@b.com>", "--contacts a@b.com"),
        ("<@U123|ann> and <@U9>", "@ann and @U9"),
        ("<#C123|general>", "#general"),
        ("<https://example.com/x?a=1&amp;b=2|example.com>", "https://example.com/x?a=1&b=2"),
        ("<!here> <!subteam^S1|@team>", "@here @team"),
        ("&lt;!channel&gt;", "<!channel>"),
        ("plain VIP", "plain VIP"),
    ],
)
def test_command_text_is_read_as_the_person_typed_it(sent: str, typed: str) -> None:
    assert as_typed(sent) == typed


def test_escaping_what_was_typed_gives_slack_back_inert_text() -> None:
    typed = as_typed("&lt;!channel&gt; R&amp;D")
    assert escape(typed) == "&lt;!channel&gt; R&amp;D"


def test_names_are_shortened_with_a_count_of_the_rest() -> None:
    names = ["alpha", "beta", "gamma", "delta"]
    assert shorten_names(names, 100) == "alpha, beta, gamma and delta"
    assert shorten_names(names, 25) == "alpha, beta and 2 more"
    assert shorten_names(["a<b"], 10, quote="*") == "*a&lt;b*"
    assert shorten_names(["x" * 300], 20) == "1 more"
    assert shorten_names([], 20) == ""
    long = [f"{i:03d}" + "n" * 251 for i in range(500)]
    shown = shorten_names(long, 2000)
    assert len(shown) <= 2000 and shown.endswith(" more")
    shown_count = shown.count(", ") + 1
    assert f"and {500 - shown_count} more" in shown


def test_fit_keeps_the_tail_whole_and_never_cuts_an_entity() -> None:
    tail = "\nActivity `act-123`"
    text = "&amp; " * 1000  # 6,000 characters of escaped text
    fitted = fit(text, tail)
    assert len(fitted) <= MAX_SECTION and fitted.endswith("…" + tail)
    body = fitted.removesuffix("…" + tail)
    assert body.endswith("&amp;")
    assert fit("short", tail) == "short" + tail
    link = "x" * 2990 + "<#C1>"
    assert "<#C" not in fit(link, "", limit=2993)
    with pytest.raises(ValueError):
        fit("a", "t" * 3001)


def test_safe_keeps_only_the_markups_own_mentions() -> None:
    from bot.mrkdwn import safe

    assert safe("<@U0001> asked to add “<!channel>” & more") == (
        "<@U0001> asked to add “&lt;!channel&gt;” &amp; more"
    )
    assert safe("<https://evil|click>") == "&lt;https://evil|click&gt;"
