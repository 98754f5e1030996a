"""People in: emails from typed text, Slack's forms, and CSV files, refused in words when bad."""

from __future__ import annotations

import pytest

from bot.cc.models import LimitError
from bot.usecases.people import (
    MAX_CSV_BYTES,
    IndexPage,
    contact_status,
    contacts_in,
    emails_in_csv,
    emails_in_text,
    unique_emails,
)

ID = "0b7e6d52-2f43-4b8e-9f3a-4c1d2e3f4a5b"


def test_emails_in_free_text_unwrap_slacks_mailto_and_keep_order() -> None:
    text = (
        "Please tag <mailto:Ada@Example.com|Ada@Example.com>, ben@example.com\n"
        "cleo@example.co.uk; (dan@example.org) and again ada@example.com.\n"
        "Not these: <@U123|ben>, <https://example.com|example.com>, @here, a@b, x@@y.com"
    )
    assert emails_in_text(text) == [
        "ada@example.com",
        "ben@example.com",
        "cleo@example.co.uk",
        "dan@example.org",
    ]


def test_slack_escapes_are_read_as_typed() -> None:
    assert emails_in_text("o&amp;neil@example.com &lt;eve@example.com&gt;") == [
        "o&neil@example.com",
        "eve@example.com",
    ]


def test_contacts_take_emails_and_ids_separated_any_way() -> None:
    named = contacts_in(f"a@example.com, B@example.com\n{ID.upper()} c@example.com;a@example.com")
    assert named.emails == ("a@example.com", "b@example.com", "c@example.com")
    assert named.contact_ids == (ID,)
    assert contacts_in("<mailto:d@example.com|d@example.com>").emails == ("d@example.com",)


def test_contacts_refuse_what_is_neither_an_email_nor_an_id() -> None:
    with pytest.raises(LimitError, match=r"“bob”, “x@y”: neither an email nor a contact id"):
        contacts_in("a@example.com, bob, x@y")
    with pytest.raises(LimitError, match="Name at least one contact"):
        contacts_in(" , \n")


def test_unique_emails_ignore_case_and_keep_the_first_order() -> None:
    assert unique_emails([" B@x.com", "a@x.com", "b@X.com", ""]) == ["b@x.com", "a@x.com"]


@pytest.mark.parametrize(
    "data",
    [
        b"email\nada@example.com\nBen@Example.com\n",  # a header
        b"ada@example.com\nben@example.com\n",  # no header
        b"\xef\xbb\xbfEmail;Name\nada@example.com;Ada\nben@example.com;Ben\n",  # BOM and ;
        b"name\temail\nAda\tada@example.com\nBen\tben@example.com\n",  # tabs, second column
        b'"Lovelace, Ada","ada@example.com"\n"Ben ""B"" Brown",ben@example.com\n',  # quoted
        "email\r\nada@example.com\r\nben@example.com\r\n".encode("utf-16"),  # Excel's UTF-16
        "Name,Email\nJosé,ada@example.com\nBen,ben@example.com\n".encode("cp1252"),
    ],
)
def test_csv_emails_in_any_column(data: bytes) -> None:
    assert emails_in_csv(data) == ["ada@example.com", "ben@example.com"]


def test_csv_emails_inside_cells_and_several_per_row() -> None:
    data = b"who,also\nAda <ada@example.com>,ben@example.com\nada@example.com,\n"
    assert emails_in_csv(data) == ["ada@example.com", "ben@example.com"]


def test_csv_refusals_say_why() -> None:
    with pytest.raises(LimitError, match=r"at most 10 MB"):
        emails_in_csv(b"a@example.com\n" + b"x" * MAX_CSV_BYTES)
    with pytest.raises(LimitError, match="The file is empty"):
        emails_in_csv(b"  \n\n")
    with pytest.raises(LimitError, match="No email address was found in the file"):
        emails_in_csv(b"name,phone\nAda,555-0100\n")
    with pytest.raises(LimitError, match="not a text CSV file"):
        emails_in_csv(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(LimitError, match="could not be read as CSV"):
        emails_in_csv(b'email\n"a@example.com' + b"x" * 200_000 + b"\n")


def test_a_contact_with_deleted_at_is_deleted_whatever_its_permission_says() -> None:
    page = IndexPage.model_validate(
        {
            "contacts": [
                {
                    "contact_id": "a",
                    "email_address": {"address": "A@x.com", "permission_to_send": "implicit"},
                    "deleted_at": "2026-11-30",
                },
                {"contact_id": "b", "email_address": {"address": "b@x.com"}},
                {
                    "contact_id": "c",
                    "email_address": {"address": "c@x.com", "permission_to_send": "unsubscribed"},
                },
            ]
        }
    )
    assert [contact_status(c) for c in page.contacts] == ["deleted", "not_set", "unsubscribed"]
