"""What the Slack front end needs of workspaces: the App Home's data, in one small value.

`HomeData` keeps the `app_home_opened` listener thin: it asks these four things and hands them
to `bot.home.home_view`. Wiring builds it from the connect flow, the store and the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.cc.budget import BudgetView
from bot.connect.flow import ConnectionInfo
from bot.home import ActivityLine, RuleShown, home_view
from bot.store.approvals import Approval
from bot.usecases.approvals import waiting_line
from bot.usecases.inputs import Actor

# (requests waiting for this approver, this person's own waiting requests)
Waiting = Callable[[Actor], tuple[list[Approval], list[Approval]]]


def _no_rules(workspace_id: str) -> Sequence[RuleShown]:
    return ()


@dataclass(frozen=True)
class HomeData:
    """connection_info(ws), calls_today(), daily_quota, recent_activities(ws), rules(ws), and
    the approval requests waiting for a person (None: approvals are not set up)."""

    connection_info: Callable[[str], ConnectionInfo | None]
    calls_today: Callable[[], int]
    daily_quota: int
    recent_activities: Callable[[str], Sequence[ActivityLine]]
    budget: Callable[[str], BudgetView | None] = lambda workspace_id: None
    approvals: Waiting | None = None
    rules: Callable[[str], Sequence[RuleShown]] = field(default=_no_rules)

    def view(self, workspace_id: str, user_id: str = "") -> dict[str, object]:
        waiting, mine = (
            self.approvals(Actor(workspace_id, user_id))
            if self.approvals is not None and user_id
            else ([], [])
        )
        return home_view(
            self.connection_info(workspace_id),
            self.calls_today(),
            self.daily_quota,
            self.recent_activities(workspace_id),
            [waiting_line(approval) for approval in waiting],
            [waiting_line(approval) for approval in mine],
            self.rules(workspace_id),
            budget=self.budget(workspace_id),
        )
