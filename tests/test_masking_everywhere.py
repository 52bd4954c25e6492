"""Planted secrets and PII in every masked place of a fixture database never appear in any page,
export or CLI output; hostile values render literally everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import (
    Agent,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    WorkflowAgentNodeBinding,
)
from data.services.export import to_csv
from data.stores.roster import RosterFilter, export_rows
from tests.apptest_helpers import PAGES, all_text, markdown_sources, open_page
from tests.conftest import NOW

PLANTED = {
    "secret_ref_value": "PLANTED-SECRET-REF-7f3a",
    "env_value": "PLANTED-ENV-VALUE-19cc",
    "env_default": "PLANTED-ENV-DEFAULT-44ab",
    "api_key": "PLANTED-API-KEY-8e1d",
    "access_token": "PLANTED-ACCESS-TOKEN-3c4d",
    "runtime_param": "PLANTED-RUNTIME-PARAM-0b2c",
    "sandbox": "PLANTED-SANDBOX-5d6e",
    "contact_email": "planted.person@pii.example",
    "prompt_token": "sk-PLANTEDtoken1234567890abcdef",
    "history": "PLANTED-HISTORY-MESSAGE-aa11",
    "user_prompt": "PLANTED-USER-PROMPT-bb22",
    "broken_json_key": "PLANTEDbrokenkey99",
    "node_contact": "planted.node@pii.example",
    "note_token": "ghp_PLANTEDnoteToken123456",
    # Issue 12.1: an invalid-JSON version shows these raw next to a valid neighbour unless it is
    # masked like JSON (a free-text key shape, a contact e-mail, a credential id under its key).
    "invalid_sk_live": "sk_live_PLANTEDinvalid0123456789abcd",
    "invalid_email": "planted.invalid@pii.example",
    "invalid_credential_id": "PLANTED-CRED-ID-77aa",
    # Issue 12.2: every class the first policy missed.
    "prompt_sk_live": "sk_live_PLANTEDprompt0123456789abcd",
    "prompt_pem": "PLANTEDpemBodyLine0001",
    "prompt_aws": "wJalrPLANTEDawsSecretK7MDENGbPxRfiCY",
    "prompt_password_second_word": "PLANTEDsecondWord",
    "prompt_url_password": "PLANTEDpromptUrlPass",
    "header_value": "PLANTED-HEADER-VALUE-1a2b",
    "provider_key": "PLANTED-PROVIDER-KEY-3c4d",
    "signing_key": "PLANTED-SIGNING-KEY-5e6f",
    "pin": "PLANTED-PIN-7081",
    "cli_env_map": "PLANTED-CLI-ENV-MAP-92a3",
    "cli_env_var": "PLANTED-CLI-ENV-VAR-b4c5",
    "cli_secret_ref": "PLANTED-CLI-SECRET-REF-d6e7",
    "install_password": "PLANTEDinstallPass",
    "tool_url_password": "PLANTEDtoolUrlPass",
    "file_url_signature": "PLANTEDamzSignature01",
    "file_url_token": "PLANTEDfileUrlToken",
    "invalid_db_pass": "PLANTED-INVALID-DB-PASS",
    "invalid_signing_key": "PLANTED-INVALID-SIGNING",
}
#: Values that live outside the versioned souls (same in every row).
PLANTED_ROWS = {
    "description_email": "planted.desc@pii.example",
    "description_phone": "+1 415 555 0134",
    "note_email": "planted.note@pii.example",
    "note_phone": "(415) 555-0199",
    "summary_email": "planted.summary@pii.example",
    "planner_state": "PLANTED-PLANNER-STATE-e8f9",
    "spec_url_password": "PLANTEDspecUrlPass",
    "node_url_password": "PLANTEDnodeUrlPass",
}
# The v2 secrets differ from v1 but have the same length (a diff must still not reveal them).
PLANTED_V2 = {k: v.replace("PLANTED", "PLANTEX") for k, v in PLANTED.items()}
#: An `sk-` token in an agent name: masked in the CSV export; on pages once the render path masks
#: every shown string (ui/render.py, another branch).
NAME_TOKEN = "sk-PLANTEDnameToken0123456789"

AGENT = "01930000-0000-7000-8000-00000000c0de"
SNAPSHOTS = [f"01930000-0000-7000-8000-00000000c0d{n}" for n in (1, 2, 3)]
BINDING = "01930000-0000-7000-8000-00000000b1d0"
SESSION = "01930000-0000-7000-8000-00000000e5e0"


def soul(values: dict[str, str]) -> str:
    doc = {
        "schema_version": 1,
        "prompt": {
            "system_prompt": (
                f"You are careful.\nNever print {values['prompt_token']}.\nBe brief.\n"
                f"Billing uses {values['prompt_sk_live']}.\n"
                f"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA{values['prompt_pem']}\n"
                f"{values['prompt_pem']}Z\n-----END RSA PRIVATE KEY-----\n"
                f"aws_secret_access_key={values['prompt_aws']}\n"
                f'password = "first {values["prompt_password_second_word"]}"\n'
                f"Reports: postgres://report:{values['prompt_url_password']}@db.internal:5432/x\n"
            )
        },
        "env": {
            "secret_refs": [
                {"name": "GITHUB_TOKEN", "ref": "secret-ref-1", "value": values["secret_ref_value"]}
            ],
            "variables": [{"name": "REGION", "value": values["env_value"], "default": values["env_default"]}],
        },
        "model": {
            "plugin_id": "langgenius/openai",
            "model_provider": "openai",
            "model": "gpt-4o-mini",
            "credential_ref": {"id": "cred-1", "type": "provider"},
            "model_settings": {"max_tokens": 512, "api_key": values["api_key"]},
            "provider_key": values["provider_key"],
        },
        "tools": {
            "cli_tools": [
                {
                    "name": "psql",
                    "env": {"DB_PASS": values["cli_env_map"]},
                    "install_commands": [
                        f"pip install git+https://bot:{values['install_password']}@git.example/x.git"
                    ],
                },
                {
                    "name": "gh",
                    "env": {
                        "variables": [{"name": "GH_HOST", "value": values["cli_env_var"]}],
                        "secret_refs": [{"name": "GH_TOKEN", "value": values["cli_secret_ref"]}],
                    },
                },
            ],
            "dify_tools": [
                {
                    "plugin_id": "langgenius/http",
                    "provider": "http",
                    "tool_name": "request",
                    "settings": {
                        "headers": [{"name": "X-Api-Key", "value": values["header_value"]}],
                        "signing_key": values["signing_key"],
                        "pin": values["pin"],
                        "endpoint": f"https://svc:{values['tool_url_password']}@api.example/v1",
                    },
                },
                {
                    "plugin_id": "langgenius/tavily",
                    "provider": "tavily",
                    "tool_name": "search",
                    "runtime_parameters": {"endpoint": values["runtime_param"]},
                    "credentials": {"access_token": values["access_token"]},
                },
            ],
        },
        "sandbox": {"provider": "e2b", "config": {"env": values["sandbox"]}},
        "human": {"contacts": [{"name": "On call", "email": values["contact_email"]}], "tools": []},
        "skills_files": {
            "files": [
                {
                    "url": f"https://b.s3.example/a.pdf?X-Amz-Signature={values['file_url_signature']}&X-Amz-Date=1"
                },
                {"url": f"https://files.example/b.txt?token={values['file_url_token']}&w=3"},
            ],
            "skills": [],
        },
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def invalid_soul() -> str:
    """A stored soul that does not parse (a stray token), holding secrets a valid soul masks by path."""
    return (
        '{"prompt": {"system_prompt": "x\\nUse ' + PLANTED["invalid_sk_live"] + ' for billing."}, '
        '"api_key": "' + PLANTED["broken_json_key"] + '", '
        '"human": {"contacts": [{"name": "On call", "email": "' + PLANTED["invalid_email"] + '"}]}, '
        '"env": {"secret_refs": [{"name": "GITHUB_TOKEN", "credential_id": "'
        + PLANTED["invalid_credential_id"]
        + '"}]}, "db_pass": "'
        + PLANTED["invalid_db_pass"]
        + '", "signing_key": "'
        + PLANTED["invalid_signing_key"]
        + '", oops'
    )


def plant(url: str) -> None:
    engine = sa.create_engine(url)
    tenant = DemoIds.TENANT_ACME
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Agent).values(
                id=AGENT,
                tenant_id=tenant,
                name="Planted agent",
                description=f"Call {PLANTED_ROWS['description_phone']} or {PLANTED_ROWS['description_email']}",
                scope="roster",
                source="imported",
                active_config_snapshot_id=SNAPSHOTS[1],
                created_at=NOW,
                updated_at=NOW,
            )
        )
        texts = [
            soul(PLANTED),
            soul(PLANTED_V2),
            invalid_soul(),
        ]
        for version, (snapshot_id, text) in enumerate(zip(SNAPSHOTS, texts, strict=True), start=1):
            conn.execute(
                sa.insert(AgentConfigSnapshot).values(
                    id=snapshot_id,
                    tenant_id=tenant,
                    agent_id=AGENT,
                    version=version,
                    config_snapshot=text,
                    version_note=(
                        f"rotated key {PLANTED['note_token']}, ask {PLANTED_ROWS['note_email']} "
                        f"or {PLANTED_ROWS['note_phone']}"
                    ),
                    summary=f"reviewed by {PLANTED_ROWS['summary_email']}",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            conn.execute(
                sa.insert(AgentConfigRevision).values(
                    id=snapshot_id[:-4] + f"ee0{version}",
                    tenant_id=tenant,
                    agent_id=AGENT,
                    current_snapshot_id=snapshot_id,
                    revision=version,
                    operation="save_new_version",
                    version_note=f"saved, ask {PLANTED_ROWS['note_email']} or {PLANTED_ROWS['note_phone']}",
                    summary=f"reviewed by {PLANTED_ROWS['summary_email']}",
                    created_at=NOW,
                )
            )
        node_job = {
            "mode": "tell_agent_what_to_do",
            "workflow_prompt": f"Summarize.\nFetch https://n:{PLANTED_ROWS['node_url_password']}@h.example/x",
            "human_contacts": [{"email": PLANTED["node_contact"], "name": "Node person"}],
        }
        conn.execute(
            sa.insert(WorkflowAgentNodeBinding).values(
                id=BINDING,
                tenant_id=tenant,
                app_id=DemoIds.APP_TICKET_TRIAGE,
                workflow_id=DemoIds.APP_TICKET_TRIAGE,
                workflow_version="draft",
                node_id="planted-node",
                binding_type="roster_agent",
                agent_id=AGENT,
                current_snapshot_id=SNAPSHOTS[0],
                node_job_config=json.dumps(node_job),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        snapshot = {
            "schema_version": 1,
            "layers": [
                {
                    "name": "history",
                    "lifecycle_state": "suspended",
                    "runtime_state": {"messages": [PLANTED["history"]]},
                },
                {
                    "name": "planner",
                    "lifecycle_state": "suspended",
                    "runtime_state": {"scratch": PLANTED_ROWS["planner_state"]},
                },
            ],
        }
        specs = [
            {
                "name": "workflow_user_prompt",
                "type": "plain.prompt",
                "deps": {},
                "metadata": {},
                "config": {
                    "user": PLANTED["user_prompt"],
                    "system": f"Use https://s:{PLANTED_ROWS['spec_url_password']}@h.example/x",
                },
            }
        ]
        conn.execute(
            sa.insert(AgentRuntimeSession).values(
                id=SESSION,
                tenant_id=tenant,
                app_id=DemoIds.APP_TICKET_TRIAGE,
                owner_type="workflow_run",
                agent_id=AGENT,
                session_snapshot=json.dumps(snapshot),
                composition_layer_specs=json.dumps(specs),
                workflow_run_id=DemoIds.RUN_SUCCEEDED_LEAKED,
                node_id="planted-node",
                binding_id=BINDING,
                status="active",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    engine.dispose()


@pytest.fixture
def planted_env(demo_app_env: Path) -> Path:
    plant(f"sqlite:///{demo_app_env / 'demo.sqlite'}")
    return demo_app_env


def assert_clean(text: str, where: str) -> None:
    leaked = [v for v in (*PLANTED.values(), *PLANTED_V2.values(), *PLANTED_ROWS.values()) if v in text]
    assert not leaked, f"{where} leaks {leaked}"


VIEWS = [
    ("roster", {"q": "Planted"}),
    ("agent", {"agent": AGENT}),
    *[
        ("compare", {"agent": AGENT, "left": "1", "right": "2", "view": v})
        for v in ("summary", "split", "unified", "raw")
    ],
    *[
        ("compare", {"left_snapshot": SNAPSHOTS[1], "right_snapshot": SNAPSHOTS[2], "view": v})
        for v in ("summary", "unified", "raw")
    ],
    # Issue 12.1: version 3 does not parse; compared with its valid neighbour in every view.
    *[
        ("compare", {"agent": AGENT, "left": "2", "right": "3", "view": v})
        for v in ("summary", "split", "unified", "raw")
    ],
    ("compare", {"left_binding": BINDING, "right_binding": BINDING, "view": "raw"}),
    ("sessions", {"session": SESSION}),
    ("sessions", {"tenant": DemoIds.TENANT_ACME, "agent": AGENT}),
    (
        "bindings",
        {
            "tenant": DemoIds.TENANT_ACME,
            "app": DemoIds.APP_TICKET_TRIAGE,
            "workflow": DemoIds.APP_TICKET_TRIAGE,
            "node": "planted-node",
        },
    ),
    *[("health", {"check": name}) for name in ("binding-missing-snapshot", "binding-foreign-snapshot")],
]


@pytest.mark.parametrize(
    ("page", "params"), VIEWS, ids=[f"{p}-{'-'.join(q.values())[:40]}" for p, q in VIEWS]
)
def test_no_planted_value_in_any_page(planted_env: Path, page: str, params: dict[str, str]) -> None:
    at = open_page(page, **params)
    assert not at.exception
    assert_clean(all_text(at), f"{page} {params}")


def test_the_diff_still_sees_the_secret_changes(planted_env: Path) -> None:
    at = open_page("compare", agent=AGENT, left="1", right="2")
    text = all_text(at)
    assert "changed (masked)" in text


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_registered_page_is_clean_by_default(planted_env: Path, page: str) -> None:
    at = open_page(page)
    assert not at.exception
    assert_clean(all_text(at), page)


def test_roster_export_is_clean(planted_env: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{planted_env / 'demo.sqlite'}")
    with engine.connect() as conn:
        rows = export_rows(conn, RosterFilter(), cap=5000, has_tenants=True, has_accounts=True)
    engine.dispose()
    csv_text = to_csv(["id", "name"], [[r.id, r.name] for r in rows])
    assert "Planted agent" in csv_text
    assert_clean(csv_text, "roster CSV")


def _rename_agent(env: Path, name: str) -> None:
    engine = sa.create_engine(f"sqlite:///{env / 'demo.sqlite'}")
    with engine.begin() as conn:
        conn.execute(sa.update(Agent).where(Agent.id == AGENT).values(name=name))
    engine.dispose()


def test_token_in_agent_name_is_masked_in_the_export(planted_env: Path) -> None:
    _rename_agent(planted_env, f"Planted agent {NAME_TOKEN}")
    engine = sa.create_engine(f"sqlite:///{planted_env / 'demo.sqlite'}")
    with engine.connect() as conn:
        rows = export_rows(conn, RosterFilter(), cap=5000, has_tenants=True, has_accounts=True)
    engine.dispose()
    csv_text = to_csv(["id", "name"], [[r.id, r.name] for r in rows])
    assert "Planted agent" in csv_text and NAME_TOKEN not in csv_text


NAME_VIEWS = [
    ("roster", {"q": "Planted"}),
    ("agent", {"agent": AGENT}),
    ("compare", {"agent": AGENT, "left": "1", "right": "2"}),
    ("sessions", {"session": SESSION}),
]


@pytest.mark.parametrize(("page", "params"), NAME_VIEWS, ids=[p for p, _ in NAME_VIEWS])
def test_token_in_agent_name_is_masked_on_every_page(
    planted_env: Path, page: str, params: dict[str, str]
) -> None:
    """The export masks the name; pages must too (needs the render path of ui/render.py that masks
    every shown string: this test is for the lead to merge with that branch)."""
    _rename_agent(planted_env, f"Planted agent {NAME_TOKEN}")
    at = open_page(page, **params)
    assert not at.exception
    assert NAME_TOKEN not in all_text(at), f"{page} {params} shows the token in the agent name"


HOSTILE_VIEWS = [
    ("roster", {"q": "onerror"}),
    ("agent", {"agent": DemoIds.HOSTILE_NAME_AGENT}),
    ("agent", {"agent": DemoIds.RTL_NAME_AGENT}),
    ("compare", {"agent": DemoIds.HOSTILE_NAME_AGENT}),
]


@pytest.mark.parametrize(("page", "params"), HOSTILE_VIEWS)
def test_hostile_values_render_literally(demo_app_env: Path, page: str, params: dict[str, str]) -> None:
    at = open_page(page, **params)
    assert not at.exception
    for body in markdown_sources(at):
        assert not re.search(r"(?<!\\)<img", body), body
        assert not re.search(r"(?<!\\)\[x(?<!\\)\]\((?<!\\)?javascript", body), body
        assert not re.search(r"(?<!\\)\*(?<!\\)\*bold", body), body


def test_masking_keeps_structure_visible(planted_env: Path) -> None:
    """Positive control: the collector sees the page's text, and names next to masked values stay visible."""
    text = all_text(open_page("agent", agent=AGENT))
    assert "GITHUB_TOKEN" in text and "REGION" in text and "[masked: set]" in text and "cred-1" in text


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "json"],
        ["check", "--format", "text"],
        ["sessions", "clean", "--rule", "finished-run", "--reason", "leak test", "--dry-run"],
        ["schema"],
    ],
)
def test_cli_output_is_clean(planted_env: Path, args: list[str]) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_URL"}
    env["AGENT_DESK_DATA_DIR"] = str(planted_env)
    run = subprocess.run(
        [sys.executable, "-m", "data", *args],
        cwd=Path(__file__).parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr
    assert_clean(run.stdout + run.stderr, " ".join(args))


def test_planted_session_and_binding_are_really_shown(planted_env: Path) -> None:
    """Positive control for the session and bindings views above: the planted rows are on the page."""
    session_text = all_text(open_page("sessions", session=SESSION))
    assert "workflow_user_prompt" in session_text and "history" in session_text
    binding_text = all_text(
        open_page(
            "bindings",
            tenant=DemoIds.TENANT_ACME,
            app=DemoIds.APP_TICKET_TRIAGE,
            workflow=DemoIds.APP_TICKET_TRIAGE,
            node="planted-node",
        )
    )
    assert "Summarize." in binding_text and "[masked" in binding_text


@pytest.mark.parametrize(
    ("page", "params"), VIEWS, ids=[f"{p}-{'-'.join(q.values())[:40]}" for p, q in VIEWS]
)
def test_hostile_planted_name_renders_literally_everywhere(
    planted_env: Path, page: str, params: dict[str, str]
) -> None:
    engine = sa.create_engine(f"sqlite:///{planted_env / 'demo.sqlite'}")
    hostile = "<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1)) \u202eevil\u200d"
    with engine.begin() as conn:
        conn.execute(sa.update(Agent).where(Agent.id == AGENT).values(name=hostile))
    engine.dispose()
    at = open_page(page, **{k: ("onerror" if k == "q" else v) for k, v in params.items()})
    assert not at.exception
    for body in markdown_sources(at):
        assert not re.search(r"(?<!\\)<img", body), body
        assert not re.search(r"(?<!\\)\[x(?<!\\)\]\((?<!\\)?javascript", body), body
        assert not re.search(r"(?<!\\)\*(?<!\\)\*bold", body), body
