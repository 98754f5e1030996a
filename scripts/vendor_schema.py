"""Cut the part of Constant Contact's published V3 contract that cctag uses into the sandbox.

    python scripts/vendor_schema.py path/to/constant-contact-v3-swagger.yaml

Reads a verbatim Swagger 2.0 copy (as served at https://api.cc.email/v3/swagger.yaml, with its
provenance file beside it), keeps
the operations in CUT and every definition they reach through `$ref`, unchanged, and writes
them as JSON to bot/devkit/sandbox/schema/v3-cut.json, with the provenance file beside it.
Known faults of the contract are not edited here: bot/devkit/sandbox/schema/overrides.py
names them. Running it again on the same copy gives the same file.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "bot" / "devkit" / "sandbox" / "schema"
PROVENANCE = "constant-contact-v3-swagger.provenance.yml"
TRACKING = ("sends", "opens", "unique_opens", "didnotopens", "clicks", "forwards", "optouts")

# The operations the bot, the poller or the sandbox's demo data use: path -> methods.
CUT: dict[str, tuple[str, ...]] = {
    "/account/summary": ("get",),
    "/activities": ("get",),
    "/activities/{activity_id}": ("get",),
    "/activities/contacts_taggings_add": ("post",),
    "/activities/contacts_taggings_remove": ("post",),
    "/activities/contacts_tags_delete": ("post",),
    "/activities/add_list_memberships": ("post",),
    "/activities/remove_list_memberships": ("post",),
    "/contact_tags": ("get", "post"),
    "/contact_tags/{tag_id}": ("get", "put", "delete"),
    "/contact_lists": ("get",),
    "/contact_lists/{list_id}": ("get",),
    "/contacts": ("get",),
    "/contacts/{contact_id}": ("get",),
    "/segments": ("get",),
    "/segments/{segment_id}": ("get",),
    "/emails": ("get",),
    "/emails/{campaign_id}": ("get",),
    "/emails/activities/{campaign_activity_id}": ("get",),
    "/reports/email_reports/{campaign_activity_id}/links": ("get",),
    "/reports/summary_reports/email_campaign_summaries": ("get",),
    **{
        f"/reports/email_reports/{{campaign_activity_id}}/tracking/{report}": ("get",)
        for report in (*TRACKING, "bounces")
    },
}


def refs(node: Any) -> set[str]:
    """The definition names a node points at through `$ref`, directly."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.removeprefix("#/definitions/"))
            else:
                found |= refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs(item) for item in node)) if node else set()
    return set()


def cut(contract: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in CUT.items():
        item = contract["paths"][path]
        paths[path] = {m: item[m] for m in methods}
        if "parameters" in item:
            paths[path]["parameters"] = item["parameters"]
    wanted, seen = refs(paths), set()
    while wanted - seen:
        name = min(wanted - seen)
        seen.add(name)
        wanted |= refs(contract["definitions"][name])
    return {
        "swagger": contract["swagger"],
        "info": contract["info"],
        "host": contract["host"],
        "basePath": contract["basePath"],
        "paths": paths,
        "definitions": {name: contract["definitions"][name] for name in sorted(seen)},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python scripts/vendor_schema.py path/to/the/swagger.yaml", file=sys.stderr)
        return 2
    source = Path(argv[1])
    if not source.exists():
        print(f"No contract at {source}: pass its path", file=sys.stderr)
        return 2
    contract = yaml.safe_load(source.read_text(encoding="utf-8"))
    part = cut(contract)
    text = json.dumps(part, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (TARGET / "v3-cut.json").write_text(text, encoding="utf-8")
    shutil.copyfile(source.with_name(PROVENANCE), TARGET / PROVENANCE)
    print(f"{len(part['paths'])} paths, {len(part['definitions'])} definitions from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
