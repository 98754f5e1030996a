"""Answers checked against Constant Contact's published schema, strictly.

The definitions come from the vendored cut of the sandbox when it has one (the whole project's
cut), else from this folder's verbatim cut of the campaign, report and segment paths. Besides
what the schema requires, every property an answer carries must be one the schema declares:
the API adds no others, so neither may the sandbox.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

HERE = Path(__file__).resolve().parent
SANDBOX_CUT = HERE.parent.parent / "bot" / "devkit" / "sandbox" / "schema" / "v3-cut.json"
LOCAL_CUT = HERE / "v3-campaigns-cut.json"


@cache
def contract() -> dict[str, Any]:
    source = SANDBOX_CUT if SANDBOX_CUT.exists() else LOCAL_CUT
    loaded: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return loaded


def response_schema(path: str, status: int = 200) -> dict[str, Any]:
    """The schema of the GET answer declared for a path template, e.g. "/emails"."""
    declared: dict[str, Any] = contract()["paths"][path]["get"]["responses"][str(status)]
    return dict(declared["schema"])


def check_answer(path: str, body: Any, status: int = 200) -> None:
    """Raise if `body` is not what the schema declares for GET `path` answering `status`."""
    schema = {**response_schema(path, status), "definitions": contract()["definitions"]}
    Draft4Validator(schema, format_checker=FormatChecker()).validate(body)
    undeclared = list(_undeclared(schema, body, schema["definitions"], "$"))
    assert not undeclared, f"properties the schema does not declare: {undeclared}"


def _resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = definitions[node["$ref"].removeprefix("#/definitions/")]
    return node


def _undeclared(node: dict[str, Any], value: Any, definitions: dict[str, Any], where: str) -> Any:
    node = _resolve(node, definitions)
    if isinstance(value, dict) and "properties" in node:
        for key, item in value.items():
            declared = node["properties"].get(key)
            if declared is None:
                yield f"{where}.{key}"
            else:
                yield from _undeclared(declared, item, definitions, f"{where}.{key}")
    elif isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            yield from _undeclared(node["items"], item, definitions, f"{where}[{index}]")
