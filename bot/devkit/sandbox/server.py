"""Run the sandbox: `SandboxServer` (a context manager for tests and the shell) and `serve`."""

from __future__ import annotations

from starlette.applications import Starlette

from bot.clock import Clock
from bot.devkit.sandbox.app import create_app
from bot.devkit.sandbox.faults import Faults
from bot.devkit.sandbox.state import (
    ALL_SCOPES,
    DEFAULT_ACCESS_TOKEN,
    DEMO_ACCOUNT_ID,
    SandboxState,
)
from bot.devkit.threaded_server import ThreadedServer

__all__ = ["SandboxServer", "create_app", "serve"]


class SandboxServer(ThreadedServer):
    """The sandbox over real HTTP on 127.0.0.1, in a daemon thread; ready when entered."""

    def __init__(
        self,
        activity_seconds: float = 5.0,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        contacts: int = 200,
        clock: Clock | None = None,
        port: int = 0,
        access_token: str | None = None,
        check_answers: bool | None = None,
    ) -> None:
        self.state = SandboxState(
            clock=clock,
            activity_seconds=activity_seconds,
            rate_per_second=rate_per_second,
            daily_quota=daily_quota,
            contacts=contacts,
        )
        if access_token:
            self.state.add_access_token(
                access_token, DEMO_ACCOUNT_ID, expires_in=None, scope=ALL_SCOPES
            )
        self.faults = Faults(self.state)
        self.app: Starlette = create_app(self.state, self.faults, check_answers=check_answers)
        self.access_token = DEFAULT_ACCESS_TOKEN
        super().__init__(self.app, port=port)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v3"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/oauth2/default/v1"


def serve(
    port: int = 8765,
    access_token: str | None = None,
    activity_seconds: float = 5.0,
    rate_per_second: float = 4.0,
    contacts: int = 200,
) -> None:
    """Serve the sandbox on 127.0.0.1:`port` until interrupted (the `cctag sandbox` command).

    The line naming the URL is printed once the server listens, so whoever reads it can call it.
    """
    import threading

    server = SandboxServer(
        activity_seconds=activity_seconds,
        rate_per_second=rate_per_second,
        contacts=contacts,
        port=port,
        access_token=access_token,
    )
    with server:
        print(f"Constant Contact sandbox at {server.base_url}", flush=True)
        threading.Event().wait()  # until Ctrl-C or SIGTERM ends the process
