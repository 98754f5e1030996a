"""Following activities to their end and posting to their Slack threads (see core.py)."""

from bot.poller.core import Poller

__all__ = ["Poller"]
