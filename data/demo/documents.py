"""The documents stored in JSON columns: souls, tool and model entries, node jobs, edits."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from typing import Any

from data.demo.catalog import (
    EDIT_NOTES,
    EXTRA_PROMPT_LINES,
    FIRST_NAMES,
    LAST_NAMES,
    MODELS,
    TOOLS,
    _Model,
    _Output,
    _Persona,
    _Tool,
)
from data.demo.context import _Person, _Tenant
from data.demo.primitives import _hex, _v4


def _blank_soul() -> dict[str, Any]:
    """AgentSoulConfig (Gen C) with every default, in model declaration order."""
    return {
        "schema_version": 1,
        "prompt": {"system_prompt": ""},
        "skills_files": {"files": [], "skills": []},
        "tools": {"dify_tools": [], "cli_tools": []},
        "knowledge": {"datasets": [], "query_mode": None, "query_config": {}},
        "human": {"contacts": [], "tools": []},
        "env": {"variables": [], "secret_refs": []},
        "sandbox": {"provider": None, "config": {}},
        "memory": {"scope": None, "budget": None, "artifacts": []},
        "model": None,
        "app_features": {},
        "app_variables": [],
        "misc_legacy": {},
    }


def _tool_entry(tool: _Tool, tenant: _Tenant) -> dict[str, Any]:
    """A `tools.dify_tools[]` entry as Gen D materializes it (credential ref, never the secret)."""
    authorized = tool.credential_type != "unauthorized"
    return {
        "enabled": True,
        "provider_type": "plugin",
        "provider_id": None,
        "plugin_id": tool.plugin_id,
        "provider": tool.provider,
        "tool_name": tool.tool_name,
        "credential_type": tool.credential_type,
        "credential_ref": {
            "type": "tool",
            "id": tenant.credentials[tool.key] if authorized else None,
            "provider": f"{tool.plugin_id}/{tool.provider}" if authorized else None,
        },
        "name": None,
        "description": None,
        "runtime_parameters": dict(tool.runtime_parameters),
    }


def _model_entry(model: _Model, tenant: _Tenant, temperature: float, max_tokens: int) -> dict[str, Any]:
    return {
        "plugin_id": model.plugin_id,
        "model_provider": model.provider,
        "model": model.model,
        "credential_ref": {
            "type": "provider",
            "id": tenant.credentials[model.provider],
            "provider": model.provider,
        },
        "model_settings": {"temperature": temperature, "max_tokens": max_tokens},
    }


def _contact(person: _Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "email": person.email, "channel": "email"}


def _secret_value(rng: random.Random) -> str:
    # Looks like a provider key on purpose: the masking layer must hide it.
    return f"sk-demo-{_hex(rng, 32)}"


def _persona_soul(
    persona: _Persona, tenant: _Tenant, rng: random.Random, *, agent_app: bool
) -> dict[str, Any]:
    """A first version built from a persona: its prompt and tools, a model, maybe knowledge."""
    doc = _blank_soul()
    doc["prompt"]["system_prompt"] = "\n".join(line.format(company=tenant.company) for line in persona.prompt)
    doc["tools"]["dify_tools"] = [
        _tool_entry(TOOLS[key], tenant) for key in persona.tools if rng.random() < 0.8
    ]
    if rng.random() < 0.9:  # a few agents have no model chosen yet (Gen B+ allows None)
        doc["model"] = _model_entry(
            rng.choice(MODELS), tenant, rng.choice((0.2, 0.3, 0.5, 0.7)), rng.choice((1024, 2048, 4096))
        )
    if rng.random() < 0.4:
        dataset_id, dataset_name = rng.choice(tenant.datasets)
        doc["knowledge"] = {
            "datasets": [{"id": dataset_id, "name": dataset_name}],
            "query_mode": "generated_query",
            "query_config": {"top_k": 4},
        }
    if agent_app:
        doc["memory"]["scope"] = "conversation"
        doc["app_features"] = {
            "opening_statement": f"Hi! I'm the {tenant.company} {persona.name.lower()}. How can I help?",
            "suggested_questions": ["Where is my order?", "How do I return an item?"],
        }
        doc["app_variables"] = [
            {"name": "customer_tier", "type": "select", "required": False, "default": "free"}
        ]
    return doc


def _addable_tools(doc: dict[str, Any]) -> list[_Tool]:
    present = {t["tool_name"] for t in doc["tools"]["dify_tools"]}
    return [t for t in TOOLS.values() if t.tool_name not in present]


def _mutate(doc: dict[str, Any], rng: random.Random, tenant: _Tenant) -> tuple[dict[str, Any], str]:
    """One realistic edit between two versions; returns the new document and what changed."""
    new = copy.deepcopy(doc)
    kinds = ["prompt", "prompt", "prompt", "env", "secret", "knowledge", "contact"]
    if _addable_tools(new):
        kinds.append("tool_add")
    if new["tools"]["dify_tools"]:
        kinds.append("tool_remove")
    if new["model"]:
        kinds += ["model", "temperature"]
    kind = rng.choice(kinds)
    return new, _EDITS[kind](new, rng, tenant, EDIT_NOTES[kind])


def _edit_prompt(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    lines = new["prompt"]["system_prompt"].split("\n")
    action = rng.random()
    if action < 0.45 and len(lines) > 1:  # rewrite one line
        lines[rng.randrange(1, len(lines))] = rng.choice(EXTRA_PROMPT_LINES)
    elif action < 0.8 or len(lines) < 4:  # add a rule
        lines.insert(rng.randrange(1, len(lines) + 1), rng.choice(EXTRA_PROMPT_LINES))
    else:  # drop a rule
        del lines[rng.randrange(1, len(lines))]
    new["prompt"]["system_prompt"] = "\n".join(lines)
    return rng.choice(notes)


def _edit_tool_add(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    tool = rng.choice(_addable_tools(new))
    new["tools"]["dify_tools"].append(_tool_entry(tool, tenant))
    return rng.choice(notes).format(tool=tool.label)


def _edit_tool_remove(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    tools = new["tools"]["dify_tools"]
    removed = tools.pop(rng.randrange(len(tools)))
    label = next(
        (t.label for t in TOOLS.values() if t.tool_name == removed["tool_name"]), removed["tool_name"]
    )
    return rng.choice(notes).format(tool=label)


def _edit_model(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    model = rng.choice([m for m in MODELS if m.model != new["model"]["model"]])
    settings = new["model"]["model_settings"]
    new["model"] = _model_entry(model, tenant, settings["temperature"], settings["max_tokens"])
    return rng.choice(notes).format(model=model.model)


def _edit_temperature(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    settings = new["model"]["model_settings"]
    old = settings["temperature"]
    settings["temperature"] = rng.choice([t for t in (0.0, 0.2, 0.3, 0.5, 0.7, 1.0) if t != old])
    return rng.choice(notes).format(old=old, new=settings["temperature"])


def _edit_env(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    name, value = rng.choice(
        (
            ("REGION", "eu-west-1"),
            ("SUPPORT_PORTAL_URL", f"https://support.{tenant.domain}"),
            ("ESCALATION_SLA_HOURS", "4"),
            ("DEFAULT_LOCALE", "en-GB"),
            ("WEBHOOK_TOKEN", f"whsec_demo_{_hex(rng, 24)}"),
        )
    )
    new["env"]["variables"] = [v for v in new["env"]["variables"] if v["name"] != name] + [
        {"name": name, "value": value}
    ]
    return rng.choice(notes).format(name=name)


def _edit_secret(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    name = rng.choice(("OPENAI_API_KEY", "ZENDESK_API_TOKEN", "GITHUB_TOKEN", "CRM_API_KEY"))
    new["env"]["secret_refs"] = [s for s in new["env"]["secret_refs"] if s["name"] != name] + [
        {"name": name, "ref": f"secret-ref-{_hex(rng, 8)}", "value": _secret_value(rng)}
    ]
    return rng.choice(notes).format(name=name)


def _edit_knowledge(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    dataset_id, dataset_name = rng.choice(tenant.datasets)
    datasets = [d for d in new["knowledge"]["datasets"] if d["id"] != dataset_id]
    new["knowledge"] = {
        "datasets": [*datasets, {"id": dataset_id, "name": dataset_name}],
        "query_mode": rng.choice(("generated_query", "user_query")),
        "query_config": {"top_k": rng.choice((3, 4, 6)), "score_threshold": 0.5},
    }
    return rng.choice(notes).format(dataset=dataset_name)


def _edit_contact(new: dict[str, Any], rng: random.Random, tenant: _Tenant, notes: Sequence[str]) -> str:
    person = tenant.member(rng)
    new["human"]["contacts"] = [c for c in new["human"]["contacts"] if c["id"] != person.id] + [
        _contact(person)
    ]
    return rng.choice(notes).format(name=person.name)


#: Edit kind -> the edit (changes the document in place, returns the version note).
_EDITS: dict[str, Callable[[dict[str, Any], random.Random, _Tenant, Sequence[str]], str]] = {
    "prompt": _edit_prompt,
    "tool_add": _edit_tool_add,
    "tool_remove": _edit_tool_remove,
    "model": _edit_model,
    "temperature": _edit_temperature,
    "env": _edit_env,
    "secret": _edit_secret,
    "knowledge": _edit_knowledge,
    "contact": _edit_contact,
}


def _output_doc(out: _Output) -> dict[str, Any]:
    """A DeclaredOutputConfig with its defaults materialized, in declaration order."""
    default = {"string": "", "number": 0, "boolean": False, "object": {}, "array": []}.get(out.type)
    return {
        "id": None,
        "name": out.name,
        "type": out.type,
        "description": out.description,
        "required": out.required,
        "file": None,
        "array_item": {"type": "string", "description": None} if out.type == "array" else None,
        "check": None,
        "failure_strategy": {
            "retry": {
                "enabled": out.retries > 0,
                "max_retries": out.retries,
                "retry_interval_ms": 1000 if out.retries else 0,
            },
            "on_failure": out.on_failure,
            "default_value": default if out.on_failure == "default_value" else None,
        },
    }


def _job_doc(
    persona: _Persona,
    *,
    previous: tuple[str, str] | None,
    contacts: Sequence[_Person] = (),
    mode: str = "tell_agent_what_to_do",
) -> dict[str, Any]:
    """A WorkflowNodeJobConfig (defaults materialized, declaration order)."""
    return {
        "schema_version": 1,
        "mode": mode,
        "workflow_prompt": persona.job_prompt,
        "previous_node_output_refs": [{"node_id": previous[0], "output": previous[1]}] if previous else [],
        "declared_outputs": [_output_doc(o) for o in persona.outputs],
        "human_contacts": [_contact(p) for p in contacts],
        "metadata": {},
    }


def _customer(rng: random.Random) -> dict[str, str]:
    """A fictional end user (PII-shaped: name, email, phone, order number)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    return {
        "first": first,
        "last": last,
        "email": f"{handle}@{rng.choice(('mail.example', 'inbox.example', 'post.example'))}",
        "phone": f"+1 415 555 {rng.randrange(100, 200):04d}",
        "order": f"#{rng.randrange(10000, 99999)}",
    }


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _stored_file(
    rng: random.Random, name: str, kind: str, size: int, mime_type: str, *, description: str | None = None
) -> dict[str, Any]:
    """A Gen E `config_skills` / `config_files` entry (draws the file id, then the content hash)."""
    entry: dict[str, Any] = {"name": name}
    if description is not None:
        entry["description"] = description
    entry.update(
        file_kind=kind, file_id=_v4(rng), size=size, hash=f"sha256:{_hex(rng, 64)}", mime_type=mime_type
    )
    return entry
