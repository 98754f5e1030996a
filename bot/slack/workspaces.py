"""What the Slack front end needs of workspaces: the App Home's data, in one small value.

`HomeData` keeps the `app_home_opened` listener thin: it asks these four things and hands them
to `bot.home.home_view`. Wiring builds it from the connect flow, the store and the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.cc.budget import BudgetView
from bot.connect.flow import ConnectionInfo
from bot.home import ActivityLine, home_view


@dataclass(frozen=True)
class HomeData:
    """connection_info(ws), calls_today(), daily_quota and recent_activities(ws)."""

    connection_info: Callable[[str], ConnectionInfo | None]
    calls_today: Callable[[], int]
    daily_quota: int
    recent_activities: Callable[[str], Sequence[ActivityLine]]
    budget: Callable[[str], BudgetView | None] = lambda workspace_id: None

    def view(self, workspace_id: str) -> dict[str, object]:
        return home_view(
            self.connection_info(workspace_id),
            self.calls_today(),
            self.daily_quota,
            self.recent_activities(workspace_id),
            budget=self.budget(workspace_id),
        )
