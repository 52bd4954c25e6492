"""The masking policy, class by class: secrets under keys, in name/value pairs and env mappings, token
and credential shapes in free text, personal data, invalid JSON; plus negative controls (innocent
values survive) and property tests that plant secrets at random paths and in random text."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.masking import (
    MASK_SET,
    is_secret_key,
    is_sensitive_path,
    mask_document,
    mask_json_text,
    mask_layer_specs,
    mask_session_snapshot,
    mask_text,
    masked_paths,
)

# --- free-text shapes (issue 12.2) ------------------------------------------------------------------

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAplantedPEMbody0001\nplantedPEMbody0002\n"
    "-----END RSA PRIVATE KEY-----"
)
TEXT_SECRETS = {
    "stripe live key": ("pay with sk_live_51PLANTEDstripeKey0123456789abcdefXYZ now", "sk_live_51PLANTED"),
    "openai key": ("key sk-proj-PLANTEDopenai0123456789 here", "PLANTEDopenai"),
    "dify app key": ("curl -H 'Authorization: Bearer app-PLANTEDdifyAppKey012345'", "PLANTEDdifyAppKey"),
    "github token": ("token ghp_PLANTEDgithub0123456789abcdefghijklmn", "PLANTEDgithub"),
    "aws secret": ("aws_secret_access_key=wJalrPLANTEDawsSecret/K7MDENG/bPxRfiCY", "PLANTEDawsSecret"),
    "aws key id": ("id AKIAPLANTED0AWSKEY12 in prose", "AKIAPLANTED0AWSKEY12"),
    "password two words": ('password = "correct horse PLANTEDpw"', "PLANTEDpw"),
    "password two words first": ('password = "PLANTEDfirst horse battery"', "horse battery"),
    "basic-auth url": ("connect to postgres://admin:PLANTEDdbPass@db.internal:5432/app", "PLANTEDdbPass"),
    "basic-auth url in https": (
        "pip install git+https://bot:PLANTEDgitPass@git.example/x.git",
        "PLANTEDgitPass",
    ),
    "jwt": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQTEFOVEVEIn0.PLANTEDjwtSignature0123", "PLANTEDjwtSignature"),
    "bearer": ("Authorization: Bearer PLANTEDbearer0123456789", "PLANTEDbearer"),
    "signed url s3": (
        "https://b.s3.amazonaws.com/f.pdf?X-Amz-Signature=PLANTEDamzSig0123&X-Amz-Date=1",
        "PLANTEDamzSig",
    ),
    "signed url token": ("https://files.example/f?token=PLANTEDfileToken&w=3", "PLANTEDfileToken"),
    "signed url sig": ("https://cdn.example/a.png?sv=2024&sig=PLANTEDazureSig%3D", "PLANTEDazureSig"),
    "export": ("export DB_PASS=PLANTEDexport && run", "PLANTEDexport"),
    "cli flag": ("mytool --api-key PLANTEDflagKey --verbose", "PLANTEDflagKey"),
    "curl user": ("curl -u deploy:PLANTEDcurlPass https://x", "PLANTEDcurlPass"),
    "header": ("X-Api-Key: PLANTEDheaderKey", "PLANTEDheaderKey"),
    "db_pass quoted": ('"db_pass": "PLANTED two words"', "PLANTED"),
    "signing key": ("signing_key=PLANTEDsigning", "PLANTEDsigning"),
    "slack": ("xoxb-1234567890-PLANTEDslack0123", "PLANTEDslack"),
    "email": ("write to planted.person+tag@pii.example.com please", "planted.person"),
    "phone intl": ("call +44 20 7946 0958 today", "7946 0958"),
    "phone us": ("call (555) 123-4567 or 555-987-6543", "123-4567"),
    "phone us second": ("call (555) 123-4567 or 555-987-6543", "987-6543"),
    "phone keyword": ("Phone: 030 12345678", "12345678"),
}


@pytest.mark.parametrize("name", sorted(TEXT_SECRETS))
def test_free_text_shape_is_masked(name: str) -> None:
    text, secret = TEXT_SECRETS[name]
    assert secret not in mask_text(text), mask_text(text)


def test_private_key_block_is_masked_whole_keeping_lines() -> None:
    text = f"before\n{PEM}\nafter"
    masked = mask_text(text)
    assert "plantedPEMbody" not in masked and "before" in masked and "after" in masked
    assert masked.count("\n") == text.count("\n")
    truncated = mask_text("key: -----BEGIN PRIVATE KEY-----\nplantedTruncatedBody")
    assert "plantedTruncatedBody" not in truncated


INNOCENT = [
    "01930000-0000-7000-8000-00000000c0de",
    "2024-05-01T10:00:00Z",
    "2024-05-01 10:00:00.123456+00:00",
    "version 1.17.2",
    "max_tokens: 512",
    "credential_type: api-key",
    "model gpt-4o-mini",
    "claude-3-5-sonnet-20241022",
    "run 1234567890123 finished",
    "order 4412",
    "langgenius/openai:0.0.26@a1b2c3d4e5f6",
    "the passage about authors and pins",
    "Keep answers under two hundred words.",
    "workflow_version: draft",
    "port 5432, timeout 30s",
    "sort_key = created_at",
]


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_text_survives(text: str) -> None:
    assert mask_text(text) == text


# --- key names and paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "X-Api-Key",
        "provider_key",
        "signing_key",
        "pin",
        "db_pass",
        "DB_PASS",
        "dbPassword",
        "client_secret",
        "access_token",
        "credential_id",
        "provider_credential_id",
        "Authorization",
        "cookie",
        "otp",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "max_tokens",
        "max_output_tokens",
        "prompt_tokens",
        "credential_type",
        "credential_ref",
        "secret_refs",
        "authorization_status",
        "author",
        "mapping",
        "passage",
        "key",
        "sort_key",
        "name",
        "model",
        "tokenizer_name",
    ],
)
def test_look_alike_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_structural_places() -> None:
    doc = {
        "model": {
            "model": "gpt-4o-mini",
            "credential_ref": {"id": "cred-ref-id-1", "type": "provider"},
            "model_settings": {"max_tokens": 512, "provider_key": "PLANTED-PROVIDER"},
        },
        "tools": {
            "cli_tools": [
                {
                    "name": "psql",
                    "env": {"DB_PASS": "PLANTED-ENV-MAP", "HOST": "PLANTED-ENV-HOST"},
                    "install_commands": ["pip install git+https://u:PLANTED-INSTALL@git.example/x"],
                },
                {
                    "name": "gh",
                    "env": {
                        "variables": [{"name": "REGION", "value": "PLANTED-VAR"}],
                        "secret_refs": [{"name": "GH_TOKEN", "ref": "ref-1", "value": "PLANTED-REF"}],
                    },
                },
            ],
            "dify_tools": [
                {
                    "provider": "http",
                    "headers": [
                        {"name": "X-Api-Key", "value": "PLANTED-HEADER"},
                        {"name": "Accept", "value": "application/json"},
                    ],
                    "config": {"signing_key": "PLANTED-SIGN", "pin": 4711},
                }
            ],
        },
        "sandbox": {"provider": "e2b", "config": {"image": "PLANTED-SANDBOX"}},
        "human": {"contacts": [{"name": "PLANTED-CONTACT-NAME", "email": "c@pii.example"}]},
        "files": [{"url": "https://f.example/a?signature=PLANTED-SIGNED-URL&x=1"}],
    }
    shown = json.dumps(mask_document(doc))
    assert "PLANTED" not in shown and "4711" not in shown and "c@pii.example" not in shown
    for visible in (
        "gpt-4o-mini",
        "cred-ref-id-1",
        "512",
        "REGION",
        "GH_TOKEN",
        "ref-1",
        "X-Api-Key",
        "application/json",
        "psql",
        "e2b",
    ):
        assert visible in shown, visible
    assert is_sensitive_path(("tools", "cli_tools", 0, "env", "DB_PASS"))
    assert not is_sensitive_path(("tools", "cli_tools", 0, "env", "variables", 0, "name"))
    assert ("tools", "dify_tools", 0, "headers", 0, "value") in masked_paths(doc)
    assert ("tools", "dify_tools", 0, "headers", 1, "value") not in masked_paths(doc)


def test_every_layer_runtime_state_is_content() -> None:
    snap = {
        "layers": [
            {"name": "history", "runtime_state": {"messages": ["PLANTED-HISTORY"]}},
            {"name": "planner", "lifecycle_state": "active", "runtime_state": {"notes": "PLANTED-PLANNER"}},
        ]
    }
    shown = json.dumps(mask_session_snapshot(snap))
    assert "PLANTED" not in shown and "planner" in shown and "active" in shown
    revealed = json.dumps(mask_session_snapshot(snap, reveal_history=True))
    assert "PLANTED-HISTORY" in revealed and "PLANTED-PLANNER" not in revealed
    specs = [{"name": "p", "config": {"user": "PLANTED-USER", "system": "see postgres://a:PLANTEDx@h/d"}}]
    assert "PLANTED" not in json.dumps(mask_layer_specs(specs))


def test_invalid_json_is_masked_like_json() -> None:
    text = (
        '{"db_pass": "PLANTED two words", "signing_key": "PLANTEDsign", "env": {"DB_PASS": "PLANTEDenv"},\n'
        '"headers": [{"name": "X-Api-Key", "value": "PLANTEDhdr"}], "secret_refs": [{"name": "A", '
        '"credential_id": "PLANTEDcred"}], "human": {"contacts": [{"email": "p@pii.example"}]},\n'
        '"prompt": {"system_prompt": "use sk_live_PLANTEDstripe0123456789 ok", "max_tokens": 512}, oops'
    )
    shown = mask_json_text(text)
    assert "PLANTED" not in shown and "p@pii.example" not in shown
    assert shown.count("\n") == text.count("\n")
    assert "512" in shown and "max_tokens" in shown and "X-Api-Key" in shown
    truncated = mask_json_text('{"model": {"api_key": "PLANTEDtrunc')
    assert "PLANTEDtrunc" not in truncated


def test_masking_is_idempotent() -> None:
    for text, _ in TEXT_SECRETS.values():
        once = mask_text(text)
        assert mask_text(once) == once


# --- properties: secrets at random paths and in random text ---------------------------------------

_SECRET_KEYS = [
    "api_key",
    "db_pass",
    "signing_key",
    "provider_key",
    "pin",
    "client_secret",
    "access_token",
    "credential_id",
    "X-Api-Key",
    "password",
]
_PLAIN_KEYS = ["config", "settings", "items", "meta", "extra", "options", "data"]
_TEXT_SHAPES = [
    "sk_live_{r}ABCDEFGH",
    "sk-proj-{r}abcdefghijkl",
    "ghp_{r}abcdefghijklmnopqrstuvwxyz0123",
    "postgres://app:{r}@db.example/x",
    'password = "{r} more words"',
    "{r}.person@pii.example",
    "https://f.example/x?token={r}&w=1",
    "Bearer {r}0123456789",
]
_marker = st.integers(min_value=10**7, max_value=10**8 - 1).map(lambda n: f"Zq{n}Xv")
_words = st.lists(
    st.sampled_from(
        ["the", "agent", "must", "cite", "sources", "v1.2", "2024-05-01", "gpt-4o-mini", "\n", "ok:", "id=7"]
    ),
    max_size=12,
)


@st.composite
def _planted_doc(draw: st.DrawFn) -> tuple[object, str]:
    """A document with one secret at a random path: under a secret key, in a secret name/value pair,
    in an env mapping, or as a token shape inside a free-text string."""
    marker = draw(_marker)
    how = draw(st.sampled_from(["key", "pair", "env", "text"]))
    if how == "key":
        leaf: object = {draw(st.sampled_from(_SECRET_KEYS)): marker}
    elif how == "pair":
        leaf = {"name": draw(st.sampled_from(["X-Api-Key", "DB_PASS", "Authorization"])), "value": marker}
    elif how == "env":
        leaf = {"env": {draw(st.sampled_from(["DB_URL", "HOST", "DB_PASS"])): marker}}
    else:
        shape = draw(st.sampled_from(_TEXT_SHAPES)).format(r=marker)
        words = draw(_words)
        cut = draw(st.integers(min_value=0, max_value=len(words)))
        leaf = {"note": " ".join([*words[:cut], shape, *words[cut:]])}
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if draw(st.booleans()):
            leaf = {draw(st.sampled_from(_PLAIN_KEYS)): leaf, "name": "x", "max_tokens": 512}
        else:
            leaf = [draw(st.sampled_from(["a", 1, None])), leaf]
    return leaf, marker


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_planted_doc())
def test_planted_secret_never_survives(planted: tuple[object, str]) -> None:
    doc, marker = planted
    assert marker not in json.dumps(mask_document(doc))
    text = json.dumps(doc, indent=2)
    assert marker not in mask_json_text(text)
    line_end = text.find("\n", text.index(marker))
    broken = text[: line_end if line_end != -1 else len(text) - 1] + " ,oops"  # truncated: invalid
    assert marker not in mask_json_text(broken), mask_json_text(broken)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_TEXT_SHAPES), _marker, _words, _words)
def test_planted_secret_in_free_text(shape: str, marker: str, before: list[str], after: list[str]) -> None:
    text = " ".join([*before, shape.format(r=marker), *after])
    masked = mask_text(text)
    assert marker not in masked
    assert masked.count("\n") == text.count("\n")


_innocent = st.one_of(
    st.uuids().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.integers(min_value=0, max_value=10**15).map(str),
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 999)).map(
        lambda t: ".".join(map(str, t))
    ),
    st.sampled_from(["gpt-4o-mini", "claude-3-5-haiku-20241022", "text-embedding-3-small", "api-key"]),
)


@settings(max_examples=200, deadline=None)
@given(_innocent, _words)
def test_innocent_values_survive(value: str, words: list[str]) -> None:
    """UUIDs, timestamps, dates, numeric ids, versions and model names are never masked, in text or
    as values of innocent keys next to masked ones."""
    text = " ".join([*words, value, *words])
    assert value in mask_text(text)
    doc = {
        "id": value,
        "max_tokens": 512,
        "credential_type": value,
        "credential_ref": {"id": value},
        "api_key": "x",
    }
    shown = mask_document(doc)
    assert shown["id"] == value and shown["credential_type"] == value
    assert shown["credential_ref"] == {"id": value} and shown["api_key"] == MASK_SET
