"""Files people attach in a modal's file_input: found with files.info, downloaded with the bot
token, read for their emails (bot.usecases.people.emails_in_csv).

Always after the ack: files.info and the download are two Slack round trips and up to 10 MB.
The bot token goes only to the host files.info named (Slack's own, or a subdomain of it): a
redirect to another host is refused, never followed, so the token never leaves Slack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cc.models import LimitError
from bot.mrkdwn import escape
from bot.slack.conversation import ModalConversation, form_of
from bot.slack.forms import Form
from bot.usecases import BulkInput, DeleteInput, Source, SourceKind
from bot.usecases.bodies import check_limits
from bot.usecases.outcomes import Refused
from bot.usecases.people import MAX_CSV_BYTES, emails_in_csv, is_email
from bot.usecases.ports import Message, Pending

READABLE_TYPES = ("csv", "text", "txt")
READABLE_SUFFIXES = (".csv", ".txt")
MAX_REDIRECTS = 3
DOWNLOAD_SECONDS = 30.0
SHOWN_NAME = 80
REINSTALL = "ask a workspace admin to reinstall the app so it may read files (files:read)"


class SlackFile(BaseModel):
    """What the bot reads of files.info's file object."""

    id: str
    name: str = ""
    size: int | None = None
    filetype: str = ""
    url_private_download: str | None = None

    @property
    def shown(self) -> str:
        """The file's name, safe in a message (escaped, clipped)."""
        name = self.name or self.id
        clipped = name if len(name) <= SHOWN_NAME else name[: SHOWN_NAME - 1] + "…"
        return f"“{escape(clipped)}”"


class FileReader:
    """The emails of files people attached, read with the bot token of `client`."""

    def __init__(self, client: WebClient, *, max_bytes: int = MAX_CSV_BYTES) -> None:
        self._client = client
        self._max_bytes = max_bytes

    def emails(self, file_ids: Iterable[str]) -> list[str]:
        """Every email of every file, each once; Refused (in words) when one cannot be read."""
        found: list[str] = []
        for file_id in file_ids:
            attached = self.info(file_id)
            try:
                found += emails_in_csv(self.download(attached))
            except LimitError as exc:
                raise Refused(f"{attached.shown}: {exc}") from None
        return list(dict.fromkeys(found))

    def info(self, file_id: str) -> SlackFile:
        try:
            answer = self._client.files_info(file=file_id)
        except SlackApiError as exc:
            raise Refused(_info_refusal(str(exc.response.get("error") or ""))) from None
        try:
            attached = SlackFile.model_validate(answer.get("file") or {})
        except ValidationError:
            raise Refused("Slack described the attached file in a way I cannot read") from None
        _check_readable(attached, self._max_bytes)
        return attached

    def download(self, attached: SlackFile) -> bytes:
        """The file's bytes: its url_private_download with the bot token, at most max_bytes."""
        url = attached.url_private_download or ""
        if not _slack_host(url, self._client.base_url):
            raise Refused(f"Slack gave no download address of its own for {attached.shown}")
        headers = {"Authorization": f"Bearer {self._client.token}"}
        with httpx.Client(follow_redirects=False, timeout=DOWNLOAD_SECONDS) as http:
            for _ in range(MAX_REDIRECTS + 1):
                try:
                    with http.stream("GET", url, headers=headers) as response:
                        if not response.is_redirect:
                            return self._body(attached, response)
                        url = _same_host_redirect(attached, url, response)
                except httpx.HTTPError:
                    raise Refused(f"The download of {attached.shown} failed; try again") from None
        raise Refused(f"Slack kept redirecting the download of {attached.shown}; try again")

    def _body(self, attached: SlackFile, response: httpx.Response) -> bytes:
        kind = response.headers.get("content-type", "")
        if response.status_code != 200 or kind.startswith("text/html"):
            raise Refused(f"Slack refused to let me download {attached.shown}: {REINSTALL}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise Refused(_too_large(attached, int(declared), self._max_bytes))
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > self._max_bytes:
                raise Refused(_too_large(attached, len(data), self._max_bytes))
        return bytes(data)


def _info_refusal(error: str) -> str:
    if error == "file_not_found":
        return "The attached file is no longer in Slack (deleted?); attach it again"
    if error in ("missing_scope", "not_allowed_token_type", "no_permission"):
        return f"I may not read the attached file: {REINSTALL}"
    return f"Slack did not hand me the attached file ({escape(error or 'no answer')}); try again"


def _check_readable(attached: SlackFile, max_bytes: int) -> None:
    typed = attached.filetype.lower() in READABLE_TYPES
    if not typed and not attached.name.lower().endswith(READABLE_SUFFIXES):
        raise Refused(f"{attached.shown} is not a CSV or text file; attach a .csv file of emails")
    if attached.size is not None and attached.size > max_bytes:
        raise Refused(_too_large(attached, attached.size, max_bytes))


def _too_large(attached: SlackFile, size: int, max_bytes: int) -> str:
    return (
        f"{attached.shown} is {size / 1_048_576:.1f} MB; a CSV file of at most "
        f"{max_bytes / 1_048_576:g} MB is read"
    )


def _slack_host(url: str, api_url: str) -> bool:
    """`url` is on Slack's API host or one of its subdomains (files.slack.com for slack.com)."""
    host, api_host = urlsplit(url).hostname or "", urlsplit(api_url).hostname or ""
    return bool(api_host) and (host == api_host or host.endswith(f".{api_host}"))


def _same_host_redirect(attached: SlackFile, url: str, response: httpx.Response) -> str:
    target = urljoin(url, response.headers.get("location", ""))
    here, there = urlsplit(url), urlsplit(target)
    if (there.scheme, there.hostname, there.port) != (here.scheme, here.hostname, here.port):
        raise Refused(
            f"Slack sent the download of {attached.shown} to another address, which I do not "
            "follow with the bot's token; nothing was read"
        )
    return target


# ---------------------------------------------------------------- the form's people


def with_emails(inp: BulkInput, emails: Sequence[str]) -> BulkInput:
    """The input with `emails` joining its typed contacts, each once (emails lower-cased)."""
    if isinstance(inp, DeleteInput) or not emails:
        return inp
    typed = (value.lower() if is_email(value) else value for value in inp.source.values)
    merged = tuple(dict.fromkeys([*typed, *emails]))
    return replace(inp, source=Source(SourceKind.CONTACTS, merged))


# The line kept behind a key for the person who submits the form, or None (another's, gone).
KeptLines = Callable[[str], str | None]
KEPT_UNKNOWN = (
    "The emails from the message are no longer known to me (or were kept for someone else); "
    "use the shortcut on the message again"
)


def limits_before_files(form: Form) -> dict[str, str]:
    """The documented limits the typed part breaks (the files and kept emails are read after
    the ack); typed contacts may be none when a file or kept emails name them."""
    problems = check_limits(form.as_input())
    if (form.files or form.kept) and not form.source.values:
        problems.pop("source", None)
    return problems


def form_input(form: Form, client: WebClient, kept_lines: KeptLines) -> BulkInput:
    """What a submitted form asks for, its kept emails and attached files read (after the ack)."""
    return reading(form, client, kept_lines)(form.as_input())


def reading(
    form: Form, client: WebClient, kept_lines: KeptLines
) -> Callable[[BulkInput], BulkInput]:
    """What completes a form's input: its kept emails and attached files, read when called (by
    the pipeline, inside the guarded turn of a yes: a file gone meanwhile is told in words)."""

    def complete(inp: BulkInput) -> BulkInput:
        emails = kept_emails(form.kept, kept_lines) if form.kept else []
        if form.files:
            emails += FileReader(client).emails(form.files)
        return with_emails(inp, emails)

    return complete


def kept_emails(key: str, kept_lines: KeptLines) -> list[str]:
    """The emails kept behind `key` for this person; Refused (in words) when there are none."""
    emails = [line for line in (kept_lines(key) or "").split("\n") if is_email(line)]
    if not emails:
        raise Refused(KEPT_UNKNOWN)
    return emails


class FileFormConversation(ModalConversation):
    """A form with files attached or emails kept: a confirmation carries the file ids and the
    kept emails' key, not their emails (a file's thousand emails would not fit in a view's
    metadata); the yes reads them again."""

    def __init__(
        self,
        client: WebClient,
        view_id: str,
        title: str,
        done_title: str,
        form: Form,
        keep: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(client, view_id, title, done_title, keep)
        self._form = form

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        planned = form_of(pending)
        carried = replace(
            planned, source=self._form.source, files=self._form.files, kept=self._form.kept
        )
        self._confirm_with(preview, carried.to_metadata())
