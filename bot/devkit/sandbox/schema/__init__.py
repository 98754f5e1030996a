"""Constant Contact's published V3 contract (the vendored cut), as the sandbox's judge.

`v3-cut.json` holds, verbatim, the operations cctag uses and the definitions they reach
(`scripts/vendor_schema.py` makes it from the reference copy; provenance beside it). The
known faults are corrected by name in `overrides.py`. Definitions are JSON Schema draft 4;
`jsonschema` validates them, `$ref`s resolving against the contract's own definitions.

`Operation.request_problems` says what the contract refuses in a request (path and query
parameters by their declared type, enum, minimum and maximum; `csv` parameters item by item;
the body by its schema), `Operation.answer_problems` what in an answer breaks it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator

from bot.devkit.sandbox.schema.overrides import apply

CUT_FILE = "v3-cut.json"
_PARAMETER_KEYWORDS = ("type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern")
# Error bodies are not in the contract; the guide: an array of these, or one for auth and rate.
ERROR_ITEM = {
    "type": "object",
    "required": ["error_key", "error_message"],
    "properties": {"error_key": {"type": "string"}, "error_message": {"type": "string"}},
}
ERROR_BODY = {"anyOf": [ERROR_ITEM, {"type": "array", "minItems": 1, "items": ERROR_ITEM}]}


@cache
def published() -> dict[str, Any]:
    """The vendored cut exactly as published (no overrides)."""
    text = resources.files(__name__).joinpath(CUT_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def contract() -> Contract:
    """The cut with the overrides applied: what the sandbox holds requests and answers to."""
    return Contract(apply(published()))


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path)


def _problems(validator: Draft4Validator, value: Any, prefix: str) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path))):
        where = ".".join(part for part in (prefix, _where(error.absolute_path)) if part)
        found.append(f"{where}: {error.message}" if where else error.message)
    return found


def _converted(raw: str, declared: str | None) -> Any:
    """A query or path value as the type the contract declares; raw when it does not convert."""
    if declared == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if declared == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if declared == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


@dataclass
class Parameter:
    name: str
    where: str  # path | query | body
    required: bool
    declared: dict[str, Any]
    validator: Draft4Validator

    def problems(self, raw: str) -> list[str]:
        if self.declared.get("format") == "csv" or self.declared.get("type") == "array":
            values: list[Any] = [part.strip() for part in raw.split(",")]
        else:
            values = [_converted(raw, self.declared.get("type"))]
        found: list[str] = []
        for value in values:
            found += _problems(self.validator, value, self.name)
        return found


@dataclass
class Operation:
    method: str
    template: str  # e.g. /contact_tags/{tag_id}, relative to basePath
    parameters: list[Parameter]
    body: Draft4Validator | None
    answers: dict[int, Draft4Validator | None]

    def request_problems(
        self, path_params: Mapping[str, str], query: Mapping[str, str], body: Any
    ) -> list[str]:
        found: list[str] = []
        given = {"path": path_params, "query": query}
        for parameter in self.parameters:
            values = given.get(parameter.where, {})
            if parameter.name in values:
                found += parameter.problems(values[parameter.name])
            elif parameter.required and parameter.where in given:
                found.append(f"{parameter.name}: is required")
        if self.body is not None:
            found += _problems(self.body, body, "")
        return found

    def answer_problems(self, status: int, body: Any) -> list[str]:
        if status >= 400:
            return _problems(_ERROR_VALIDATOR, body, "")
        if status not in self.answers:
            declared = ", ".join(str(s) for s in sorted(self.answers))
            return [f"{self.method} {self.template} declares {declared}, not {status}"]
        validator = self.answers[status]
        if validator is None:
            return [] if body in (None, b"", "") else [f"status {status} declares no body"]
        return _problems(validator, body, "")


_ERROR_VALIDATOR = Draft4Validator(ERROR_BODY)


class Contract:
    """The operations of a (cut of the) contract, by method and path template."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.base_path: str = document["basePath"]
        self._definitions = document["definitions"]
        self.operations: dict[tuple[str, str], Operation] = {}
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method != "parameters":
                    key = (method.upper(), template)
                    self.operations[key] = self._operation(
                        key, [*shared, *op.get("parameters", [])], op
                    )

    def validator(self, schema: Mapping[str, Any]) -> Draft4Validator:
        """A draft-4 validator of `schema`; its `#/definitions/...` refs resolve in the contract."""
        return Draft4Validator({**schema, "definitions": self._definitions})

    def definition(self, name: str) -> Draft4Validator:
        return self.validator({"$ref": f"#/definitions/{name}"})

    def operation(self, method: str, template: str) -> Operation:
        return self.operations[(method.upper(), template)]

    def _operation(
        self, key: tuple[str, str], declared: list[dict[str, Any]], op: dict[str, Any]
    ) -> Operation:
        parameters, body = [], None
        for item in declared:
            if item["in"] == "body":
                body = self.validator(item["schema"])
                continue
            # An array parameter arrives one value at a time: each is checked as one of its items.
            whole = item.get("items", item) if item.get("type") == "array" else item
            schema = {k: whole[k] for k in _PARAMETER_KEYWORDS if k in whole}
            if item.get("format") == "csv" and "enum" in item:
                schema["type"] = "string"
            parameters.append(
                Parameter(
                    item["name"],
                    item["in"],
                    bool(item.get("required")),
                    item,
                    self.validator(schema),
                )
            )
        answers: dict[int, Draft4Validator | None] = {}
        for status, answer in op.get("responses", {}).items():
            if status.isdigit() and int(status) < 400:
                schema = answer.get("schema")
                answers[int(status)] = self.validator(schema) if schema else None
        return Operation(key[0], key[1], parameters, body, answers)


class AnswerLog:
    """Answers that broke the contract, kept for the test suite to fail on (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: list[str] = []

    def record(self, problem: str) -> None:
        with self._lock:
            self._problems.append(problem)

    def drain(self) -> list[str]:
        with self._lock:
            found, self._problems = self._problems, []
            return found


ANSWER_PROBLEMS = AnswerLog()
