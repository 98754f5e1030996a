"""uvicorn's access log without query strings.

The OAuth callbacks (`/cc/oauth/callback`, `/slack/oauth_redirect`) carry an authorization code
and a state in theirs: both are single-use, but neither belongs in a log that operators ship
elsewhere. No route of ours needs its query string logged.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class DropQueryString(logging.Filter):
    """Cuts `?…` off the path of a uvicorn access record (args: client, method, path, …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging config, with the access handler dropping query strings."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query_string"] = {"()": DropQueryString}
    config["handlers"]["access"]["filters"] = ["drop_query_string"]
    return config
