"""What the Slack front end needs of workspaces: the App Home's data, in one small value.

`HomeData` keeps the `app_home_opened` listener thin: it asks these four things and hands them
to `bot.home.home_view`. Wiring builds it from the connect flow, the store and the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.connect.flow import ConnectionInfo
from bot.home import ActivityLine, RuleShown, home_view


def _no_rules(workspace_id: str) -> Sequence[RuleShown]:
    return ()


@dataclass(frozen=True)
class HomeData:
    """connection_info(ws), calls_today(), daily_quota, recent_activities(ws) and rules(ws)."""

    connection_info: Callable[[str], ConnectionInfo | None]
    calls_today: Callable[[], int]
    daily_quota: int
    recent_activities: Callable[[str], Sequence[ActivityLine]]
    rules: Callable[[str], Sequence[RuleShown]] = field(default=_no_rules)

    def view(self, workspace_id: str) -> dict[str, object]:
        return home_view(
            self.connection_info(workspace_id),
            self.calls_today(),
            self.daily_quota,
            self.recent_activities(workspace_id),
            self.rules(workspace_id),
        )
