"""JSON lines with the ids of the work under way, and no secret in any line of either format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.ops import logs
from bot.settings import load_settings, secrets_of

Captured = tuple[logging.Logger, io.StringIO, logs.Redact]


@pytest.fixture
def captured() -> Iterator[Captured]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    redact = logs.Redact()
    handler.addFilter(redact)
    logger = logging.getLogger("cctag.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, out, redact
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_the_ids_of_the_work(captured: Captured) -> None:
    log, out, _ = captured
    with logs.log_ids(team="T1", user="U1", channel="C1"):
        log.info("looked up %d tags", 3)
        with logs.log_ids(activity="a-1", job=None):
            log.warning("later")
    log.info("outside")
    first, inner, outside = lines(out)
    assert first["message"] == "looked up 3 tags"
    assert first["level"] == "INFO" and first["logger"] == "cctag.test.logs"
    assert str(first["time"]).endswith("+00:00")
    assert (first["team"], first["user"], first["channel"]) == ("T1", "U1", "C1")
    assert inner["activity"] == "a-1" and inner["team"] == "T1" and "job" not in inner
    assert not {"team", "user", "channel", "activity"} & set(outside)


def test_secrets_never_reach_a_line(captured: Captured) -> None:
    log, out, redact = captured
    redact.add(["the-signing-secret-42", None, "abc"])  # too short to cut: "abc" stays
    log.info("secret the-signing-secret-42 and abc")
    log.info("Authorization: Bearer eyJhbGciOi.payload.sig")
    log.info("slack said xoxb-1234-5678-abcdEFGH and xapp-1-A0-99")
    log.info("posted client_secret=s3cr3t&code=1 password: 'hunter22'")
    try:
        raise ValueError("token the-signing-secret-42 refused")
    except ValueError:
        log.exception("failed")
    text = out.getvalue()
    for secret in (
        "the-signing-secret-42",
        "eyJhbGciOi",
        "xoxb-1234",
        "xapp-1-A0",
        "s3cr3t",
        "hunter22",
    ):
        assert secret not in text
    messages = [line["message"] for line in lines(out)]
    assert messages[0] == "secret [redacted] and abc"
    assert messages[1] == "Authorization: Bearer [redacted]"
    assert messages[3] == "posted client_secret=[redacted]&code=1 password: '[redacted]'"
    assert "ValueError" in str(lines(out)[4]["exception"])


def test_text_stays_the_default_and_another_format_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().cctag_log_format == "text"
    monkeypatch.setenv("CCTAG_LOG_FORMAT", " JSON ")
    assert load_settings().cctag_log_format == "json"
    monkeypatch.setenv("CCTAG_LOG_FORMAT", "xml")
    with pytest.raises(Exception, match="CCTAG_LOG_FORMAT"):
        load_settings()


def test_the_settings_name_every_secret_they_hold() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-a",
        slack_signing_secret="sign",
        cc_client_secret="ccs",
        cctag_metrics_token="mt",
        database_url="postgresql://u:dbpass@host/db",
    )
    assert set(secrets_of(settings)) == {"xoxb-a", "sign", "ccs", "mt", "dbpass"}
