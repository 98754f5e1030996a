"""A local stand-in for Slack's Web API, for tests and `cctag shell`."""

from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer, SlackCall, SlackMessage

__all__ = ["FakeSlack", "FakeSlackServer", "SlackCall", "SlackMessage"]
