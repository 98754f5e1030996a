"""Pydantic models of the Constant Contact V3 schema, for what cctag sends and reads.

The published schema (Swagger 2.0, v3.0.17x, as carried by `constant-contact-api-client`)
decides where the user's seed documents disagree: booleans are JSON booleans (not "true"),
`exclude` is a top-level object `{"contact_ids": [...]}` (not an array inside `source`),
`segment_id` is an integer, activity POSTs answer 201 and a single tag DELETE answers 202.

Documented limits are enforced here, before any call, with messages a person understands.
Where the schema itself is wrong (`maxItems: 0` on list-membership arrays, a known fault)
the limits from its descriptions apply: 50 lists, 500 contacts, 50 tags.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_TAG_NAME = 255
MAX_CONTACT_IDS = 500
MAX_SOURCE_LIST_IDS = 50
MAX_SOURCE_TAG_IDS = 50
MAX_TARGET_LIST_IDS = 50
MAX_TAGS_PER_TAGGING = 50
MAX_TAGS_TO_DELETE = 500
MAX_PAGE_LIMIT = 500
MAX_TAGS_IN_ACCOUNT = 500
FORBIDDEN_TAG_CHARACTERS = "<>"


class LimitError(ValueError):
    """Input that breaks a documented API limit; the message says which and by how much."""


class ActivityState(StrEnum):
    INITIALIZED = "initialized"
    PROCESSING = "processing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {
        ActivityState.COMPLETED,
        ActivityState.CANCELLED,
        ActivityState.FAILED,
        ActivityState.TIMED_OUT,
    }
)


class EngagementLevel(StrEnum):
    UNQUALIFIED = "unqualified"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ActivityKind(StrEnum):
    """The bulk activity endpoints cctag drives, by their path under /v3/activities/."""

    ADD_TAGS = "contacts_taggings_add"
    REMOVE_TAGS = "contacts_taggings_remove"
    DELETE_TAGS = "contacts_tags_delete"
    ADD_TO_LISTS = "add_list_memberships"
    REMOVE_FROM_LISTS = "remove_list_memberships"


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


def _exceeds(what: str, count: int, limit: int) -> LimitError:
    return LimitError(f"{count} {what} is {count - limit} over the limit of {limit}")


def _check_max(values: list[str] | None, limit: int, what: str) -> None:
    if values is not None and len(values) > limit:
        raise _exceeds(what, len(values), limit)


# Letters that draw nothing (Hangul fillers, the blank Braille pattern, the Mongolian vowel
# separator): a name of only these looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def _hidden(character: str) -> bool:
    """Control and format characters: newlines, zero-width spaces, direction overrides."""
    return unicodedata.category(character) in ("Cc", "Cf")


def _unseen(character: str) -> bool:
    return character.isspace() or _hidden(character) or character in _BLANK_LETTERS


def name_within(value: str, what: str, limit: int) -> str:
    """`value` stripped, refused in words when empty, invisible, holding control or format
    characters (a direction override makes a name read otherwise than it is), or longer than
    `limit` characters."""
    stripped = value.strip()
    if not stripped:
        raise LimitError(f"A {what} name needs at least one character")
    if all(_unseen(c) for c in stripped):
        raise LimitError(f"A {what} name needs at least one visible character")
    hidden = [c for c in stripped if _hidden(c)]
    if hidden:
        codes = ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in hidden))
        raise LimitError(
            f"A {what} name cannot hold control characters, invisible characters or direction "
            f"overrides ({codes}): type it with letters, digits, spaces and keyboard symbols"
        )
    if len(stripped) > limit:
        raise LimitError(
            f"The {what} name is {len(stripped)} characters, {len(stripped) - limit} over "
            f"the limit of {limit}"
        )
    return stripped


def validate_tag_name(name: str) -> str:
    """Tag names: 1 to 255 characters, no < or >."""
    stripped = name_within(name, "tag", MAX_TAG_NAME)
    bad = sorted({c for c in stripped if c in FORBIDDEN_TAG_CHARACTERS})
    if bad:
        raise LimitError(f"A tag name cannot contain {' or '.join(bad)}")
    return stripped


# ---------------------------------------------------------------- links and paging


class Link(_Model):
    href: str | None = None


class PageLinks(_Model):
    next: Link | None = None


# ---------------------------------------------------------------- tags


class TagCreate(_Model):
    """POST /contact_tags body (TagPost)."""

    name: str
    tag_source: str | None = None

    @model_validator(mode="after")
    def _valid_name(self) -> TagCreate:
        self.name = validate_tag_name(self.name)
        return self


class TagRename(_Model):
    """PUT /contact_tags/{tag_id} body (TagPut)."""

    name: str

    @model_validator(mode="after")
    def _valid_name(self) -> TagRename:
        self.name = validate_tag_name(self.name)
        return self


class Tag(_Model):
    tag_id: str
    name: str
    contacts_count: int | None = None
    tag_source: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TagPage(_Model):
    tags: list[Tag] = Field(default_factory=list)
    links: PageLinks | None = Field(default=None, alias="_links")


# ---------------------------------------------------------------- activity requests


class ContactIdsExclude(_Model):
    contact_ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _limit(self) -> ContactIdsExclude:
        _check_max(self.contact_ids, MAX_CONTACT_IDS, "contacts to exclude")
        return self


class _Source(_Model):
    """Exactly one source property may be set; the subclasses list which ones exist."""

    def chosen(self) -> list[str]:
        return [name for name, value in self if value not in (None, False, [])]

    @model_validator(mode="after")
    def _exactly_one(self) -> _Source:
        chosen = self.chosen()
        if len(chosen) != 1:
            options = ", ".join(type(self).model_fields)
            raise LimitError(
                f"Choose exactly one source of contacts ({options}); got "
                + (", ".join(chosen) if chosen else "none")
            )
        _check_max(getattr(self, "contact_ids", None), MAX_CONTACT_IDS, "contacts")
        _check_max(getattr(self, "list_ids", None), MAX_SOURCE_LIST_IDS, "source lists")
        _check_max(getattr(self, "tag_ids", None), MAX_SOURCE_TAG_IDS, "source tags")
        return self

    def allows_exclude(self) -> bool:
        return bool(getattr(self, "all_active_contacts", False) or getattr(self, "list_ids", None))


class TaggingSource(_Source):
    contact_ids: list[str] | None = None
    list_ids: list[str] | None = None
    tag_ids: list[str] | None = None
    all_active_contacts: bool | None = None
    new_subscriber: bool | None = None


class ListAddSource(_Source):
    contact_ids: list[str] | None = None
    list_ids: list[str] | None = None
    tag_ids: list[str] | None = None
    all_active_contacts: bool | None = None
    engagement_level: EngagementLevel | None = None
    segment_id: int | None = None


class ListRemoveSource(_Source):
    contact_ids: list[str] | None = None
    list_ids: list[str] | None = None
    tag_ids: list[str] | None = None
    all_active_contacts: bool | None = None
    engagement_level: EngagementLevel | None = None


def _check_exclude(source: _Source, exclude: ContactIdsExclude | None) -> None:
    if exclude is not None and exclude.contact_ids and not source.allows_exclude():
        raise LimitError(
            "Excluding contacts only works with all active contacts or lists as the source"
        )


class TaggingRequest(_Model):
    """Body of contacts_taggings_add and contacts_taggings_remove."""

    source: TaggingSource
    exclude: ContactIdsExclude | None = None
    tag_ids: list[str]

    @model_validator(mode="after")
    def _limits(self) -> TaggingRequest:
        if not self.tag_ids:
            raise LimitError("Name at least one tag")
        _check_max(self.tag_ids, MAX_TAGS_PER_TAGGING, "tags")
        _check_exclude(self.source, self.exclude)
        return self


class TagDeleteRequest(_Model):
    """Body of contacts_tags_delete."""

    tag_ids: list[str]

    @model_validator(mode="after")
    def _limits(self) -> TagDeleteRequest:
        if not self.tag_ids:
            raise LimitError("Name at least one tag to delete")
        _check_max(self.tag_ids, MAX_TAGS_TO_DELETE, "tags to delete")
        return self


class ListMembershipRequest(_Model):
    """Body of add_list_memberships (ListAddSource) or remove_list_memberships."""

    source: ListAddSource | ListRemoveSource
    exclude: ContactIdsExclude | None = None
    list_ids: list[str]

    @model_validator(mode="after")
    def _limits(self) -> ListMembershipRequest:
        if not self.list_ids:
            raise LimitError("Name at least one list")
        _check_max(self.list_ids, MAX_TARGET_LIST_IDS, "lists")
        _check_exclude(self.source, self.exclude)
        return self


# ---------------------------------------------------------------- activities


class ActivityStatus(_Model):
    items_total_count: int | None = None
    items_completed_count: int | None = None
    list_count: int | None = None


class ActivityLinks(_Model):
    self_: Link | None = Field(default=None, alias="self")
    results: Link | None = None


class Activity(_Model):
    """An activity as POSTs, GET /activities/{id} and GET /activities answer it.

    `activity_errors` are strings on tagging and list activities but `{"message": ...}`
    objects on the generic activity of DELETE /contact_tags/{id}; both become strings.
    """

    activity_id: str
    state: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    percent_done: int | None = None
    activity_errors: list[str] = Field(default_factory=list)
    status: ActivityStatus | None = None
    links: ActivityLinks | None = Field(default=None, alias="_links")

    @model_validator(mode="before")
    @classmethod
    def _errors_as_strings(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("activity_errors"), list):
            data = dict(data)
            data["activity_errors"] = [
                e.get("message", "") if isinstance(e, dict) else str(e)
                for e in data["activity_errors"]
            ]
        return data

    @property
    def known_state(self) -> ActivityState | None:
        try:
            return ActivityState(self.state)
        except ValueError:
            return None

    @property
    def is_terminal(self) -> bool:
        state = self.known_state
        return state is not None and state.is_terminal


class ActivityPage(_Model):
    activities: list[Activity] = Field(default_factory=list)
    links: PageLinks | None = Field(default=None, alias="_links")


ActivityStateFilter = Literal["processing", "completed", "cancelled", "failed", "timed_out"]


# ---------------------------------------------------------------- lists and contacts


class ContactList(_Model):
    list_id: str
    name: str
    description: str | None = None
    favorite: bool | None = None
    membership_count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ContactListPage(_Model):
    lists: list[ContactList] = Field(default_factory=list)
    lists_count: int | None = None
    links: PageLinks | None = Field(default=None, alias="_links")


class EmailAddress(_Model):
    address: str
    permission_to_send: str | None = None


class Contact(_Model):
    contact_id: str
    email_address: EmailAddress | None = None
    first_name: str | None = None
    last_name: str | None = None
    list_memberships: list[str] | None = None
    taggings: list[str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: date | None = None  # the schema: format date


class ContactPage(_Model):
    contacts: list[Contact] = Field(default_factory=list)
    contacts_count: int | None = None
    status: str | None = None
    links: PageLinks | None = Field(default=None, alias="_links")


# ---------------------------------------------------------------- errors and OAuth2


class ApiErrorItem(_Model):
    error_key: str = ""
    error_message: str = ""


class TokenResponse(_Model):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 86_400
    refresh_token: str | None = None
    scope: str | None = None


def limit_message(exc: ValidationError) -> str:
    """The person-readable text of a validation failure (our LimitError texts as they are)."""
    parts = []
    for error in exc.errors():
        original = (error.get("ctx") or {}).get("error")
        if isinstance(original, LimitError):
            parts.append(str(original))
        else:
            where = ".".join(str(p) for p in error["loc"])
            parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


M = TypeVar("M", bound=BaseModel)


def build(model: type[M], data: Any) -> M:
    """Validate `data` as `model`, raising LimitError with a readable message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise LimitError(limit_message(exc)) from None
