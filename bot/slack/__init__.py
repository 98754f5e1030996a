"""Slack: the bolt app (listeners, Block Kit views, one-line command parsing)."""
