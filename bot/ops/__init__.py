"""What operators need around the bot: readiness, metrics, structured logs, clean stops.

Each part hooks into the rest at one small point (an httpx transport, a slack_sdk retry handler,
the listeners' `acked`, the pipeline's and the poller's entries, `wiring.serve`), so the logic
it observes does not change.
"""
