from __future__ import annotations

from bot.cc.errors import BadRequest, Conflict, RateLimited, ServerError, error_for


def test_error_list_bodies_keep_the_api_message() -> None:
    error = error_for(
        400,
        '[{"error_key":"contacts.api.validation.error","error_message":"Tag name is invalid."}]',
    )
    assert isinstance(error, BadRequest)
    assert error.message == "Tag name is invalid."
    assert error.error_key == "contacts.api.validation.error"


def test_single_object_bodies_and_429_kinds() -> None:
    throttled = error_for(429, '{"error_key":"throttled","error_message":"Too Many Requests"}')
    quota = error_for(429, '{"error_key":"quota_exceeded","error_message":"Limit Exceeded"}')
    assert isinstance(throttled, RateLimited) and not throttled.is_daily_quota
    assert isinstance(quota, RateLimited) and quota.is_daily_quota


def test_conflict_and_server_errors_and_non_json() -> None:
    assert isinstance(error_for(409, "[]"), Conflict)
    server = error_for(503, "<html>down</html>")
    assert isinstance(server, ServerError) and server.message == "<html>down</html>"
