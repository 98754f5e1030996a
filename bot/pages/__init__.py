"""Plain, accessible HTML pages for the browser steps: installing the app, connecting an account.

Every page has a language, a title, one h1 inside <main>, header and footer landmarks, and
works without scripts. Every dynamic text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1d1c1d;background:#fff}"
    "h1{font-size:1.6rem}footer{margin-top:3rem;font-size:.9rem;color:#4a4a4a}"
)


def page(title: str, paragraphs: Sequence[str], *, outcome: str) -> str:
    """A whole page; `outcome` names the result for people and tests (data-outcome)."""
    body = "\n".join(f"    <p>{escape(text)}</p>" for text in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{escape(title)} - cctag</title>
  <style>{_STYLE}</style>
</head>
<body>
  <header><p>cctag: Constant Contact tags from Slack</p></header>
  <main id="result" data-outcome="{escape(outcome)}">
    <h1>{escape(title)}</h1>
{body}
  </main>
  <footer><p>You can close this page and return to Slack.</p></footer>
</body>
</html>
"""


def connected_page(account_name: str | None, workspace_id: str) -> str:
    account = (
        f"The Constant Contact account “{account_name}”"
        if account_name
        else ("Your Constant Contact account")
    )
    return page(
        "Constant Contact is connected",
        [
            f"{account} is now connected to the Slack workspace {workspace_id}.",
            "Back in Slack, type /cctag help to see what you can do.",
        ],
        outcome="connected",
    )


def denied_page() -> str:
    return page(
        "Constant Contact was not connected",
        [
            "You declined access on Constant Contact's page, so nothing was connected.",
            "To try again, type /cctag connect in Slack.",
        ],
        outcome="denied",
    )


def invalid_state_page() -> str:
    return page(
        "This connection link is not valid",
        [
            "The link has expired or was not issued by cctag, so nothing was connected.",
            "Links last ten minutes and work once. Type /cctag connect in Slack for a new one.",
        ],
        outcome="invalid_state",
    )


def replayed_page() -> str:
    return page(
        "This connection link was already used",
        [
            "Each link works once, and this one has been used, so nothing changed now.",
            "If the account is not connected, type /cctag connect in Slack for a new link.",
        ],
        outcome="replayed",
    )


def connect_error_page(reason: str) -> str:
    return page(
        "Constant Contact could not be connected",
        [reason, "Nothing was connected. Type /cctag connect in Slack to try again."],
        outcome="error",
    )


def installed_page(team: str) -> str:
    return page(
        "cctag is installed",
        [
            f"cctag is now installed in the Slack workspace {team}.",
            "Next, connect your Constant Contact account: type /cctag connect in Slack.",
        ],
        outcome="installed",
    )


def install_failed_page(reason: str) -> str:
    return page(
        "cctag was not installed",
        [f"Slack's installation did not complete ({reason}).", "Start the installation again."],
        outcome="install_failed",
    )
