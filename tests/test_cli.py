"""The `cctag` commands as an operator runs them: real processes, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.devkit.threaded_server import free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CC_", "SLACK_", "CCTAG_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/cctag.db", **extra})
    return env


def _wait_for_line(process: subprocess.Popen[str], needle: str, deadline: float) -> None:
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if needle in line:
            return
        if not line and process.poll() is not None:
            break
    pytest.fail(f"never saw {needle!r}")


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert (tmp_path / "cctag.db").exists()


def test_poll_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "poll"],
        env=_env(tmp_path, CC_ACCESS_TOKEN="cli-token"),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # the mode it runs in comes first
        assert "cctag poll; one Constant Contact account (CC_ACCESS_TOKEN)" in first
        assert f"database sqlite:///{tmp_path}/cctag.db" in first
        _wait_for_line(process, "poller started", time.monotonic() + 30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()


def test_sandbox_command_serves_the_api(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}/v3" in process.stdout.readline()
        headers = {"Authorization": "Bearer sandbox-token"}
        url = f"http://127.0.0.1:{port}/v3/contact_tags"
        assert httpx.post(url, json={"name": "CLI"}, headers=headers).status_code == 201
        assert httpx.post(url, json={"name": "CLI"}, headers=headers).status_code == 409
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_keeps_oauth_codes_and_states_out_of_its_access_log(tmp_path: Path) -> None:
    port = free_port()
    env = _env(
        tmp_path,
        PORT=str(port),
        SLACK_BOT_TOKEN="xoxb-cli",
        SLACK_SIGNING_SECRET="cli-secret",
        CC_CLIENT_ID="cli-client",
        CC_CLIENT_SECRET="cli-client-secret",
        CCTAG_ENCRYPTION_KEY="a passphrase of sixteen characters",
    )
    access_log = tmp_path / "access.log"  # uvicorn writes its access log to stdout
    with access_log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert f"cctag serve; HTTP on port {port} (POST /slack/events)" in first
        assert "Constant Contact accounts connected per workspace (CC_CLIENT_ID)" in first
        _wait_for_line(process, "Uvicorn running", time.monotonic() + 30)
        callback = f"http://127.0.0.1:{port}/cc/oauth/callback"
        answer = httpx.get(callback, params={"code": "CODE-1234", "state": "STATE-5678"})
        assert answer.status_code == 400  # an unknown state: refused
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    finally:
        process.kill()
    log = access_log.read_text()
    assert '"GET /cc/oauth/callback HTTP/1.1" 400' in log
    assert "CODE-1234" not in log and "STATE-5678" not in log


def _one_line_failure(args: list[str], env: dict[str, str]) -> str:
    """Run cctag; it must end with status 2 and exactly one line on stderr, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=60
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("cctag: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_an_unwritable_database_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path}/a-file/cctag.db"
    line = _one_line_failure(["db", "upgrade"], _env(tmp_path, DATABASE_URL=url))
    assert "cannot open the SQLite database" in line and "a-file/cctag.db" in line


@pytest.mark.parametrize("command", [["db", "upgrade"], ["poll"]])
def test_an_unreachable_postgresql_is_one_line(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql://cctag:secret@127.0.0.1:{free_port()}/cctag"
    env = _env(tmp_path, DATABASE_URL=url, CC_ACCESS_TOKEN="cli-token")
    line = _one_line_failure(command, env)
    assert "cannot reach PostgreSQL at 127.0.0.1:" in line and "secret" not in line


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://user@db.example/cctag", "'mysql', which cctag does not support"),
        ("postgresql+nodriver://db.example/cctag", "driver 'postgresql+nodriver'"),
    ],
)
def test_an_unsupported_database_url_is_one_line(tmp_path: Path, url: str, said: str) -> None:
    line = _one_line_failure(["db", "upgrade"], _env(tmp_path, DATABASE_URL=url))
    assert said in line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["serve", "--port", "70000"], "--port: 70000 is not a port number"),
        (["serve", "--port", "web"], "--port: 'web' is not a port number"),
        (["sandbox", "--port", "0"], "--port: 0 is not a port number"),
        (["sandbox", "--rate", "0"], "--rate: 0 must be a number above 0"),
        (["sandbox", "--activity-seconds", "-1"], "--activity-seconds: -1 must be"),
        (["sandbox", "--contacts", "many"], "--contacts: 'many' is not a whole number"),
    ],
)
def test_bad_flags_are_one_line(tmp_path: Path, args: list[str], said: str) -> None:
    assert said in _one_line_failure(args, _env(tmp_path))


SERVE_ENV = {"SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_SIGNING_SECRET": "cli-secret"}


@pytest.mark.parametrize("command", [["serve"], ["poll"]])
def test_no_constant_contact_token_nor_application_is_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    line = _one_line_failure(command, _env(tmp_path, **SERVE_ENV))
    assert "CC_ACCESS_TOKEN or CC_CLIENT_ID: neither is set" in line


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
@pytest.mark.parametrize("command", [["serve"], ["poll"], ["db", "upgrade"]])
def test_an_in_memory_database_is_one_line(tmp_path: Path, command: list[str], url: str) -> None:
    env = _env(tmp_path, DATABASE_URL=url, CC_ACCESS_TOKEN="cli-token", **SERVE_ENV)
    line = _one_line_failure(command, env)
    assert "DATABASE_URL: an in-memory SQLite database is lost at exit" in line


@pytest.mark.parametrize("command", [["serve"], ["poll"]])
def test_a_short_encryption_key_is_one_line(tmp_path: Path, command: list[str]) -> None:
    env = _env(tmp_path, CC_ACCESS_TOKEN="cli-token", CCTAG_ENCRYPTION_KEY="short", **SERVE_ENV)
    line = _one_line_failure(command, env)
    assert "CCTAG_ENCRYPTION_KEY must be a Fernet key or a passphrase of at least 16" in line


@pytest.mark.parametrize(
    ("command", "host", "setting"),
    [(["serve"], "0.0.0.0", "--port or PORT"), (["sandbox"], "127.0.0.1", "--port")],
)
def test_a_port_in_use_is_one_line(
    tmp_path: Path, command: list[str], host: str, setting: str
) -> None:
    taken = socket.socket()
    try:
        taken.bind((host, 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, CC_ACCESS_TOKEN="cli-token", **SERVE_ENV)
        line = _one_line_failure([*command, "--port", str(port)], env)
        assert f"{setting}: port {port} is in use by another program" in line
    finally:
        taken.close()
