"""Portable types and tolerant reading, on both SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from data import migrate
from data.models import Agent, AgentConfigRevision, naive_utc_now, uuidv7, uuidv7_time
from data.models.enums import AgentSource, RevisionOperation
from data.params import parse_params
from data.tolerant import EnumValue, parse_json
from data.types import normalize_uuid


def test_uuid_is_written_and_read_as_lowercase_dashed(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)
    migrate.upgrade(engine, "mirror")
    upper = "0193ABCD-0000-7000-8000-00000000FFFF"
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Agent).values(
                id=upper, tenant_id=upper, name="x", description="", scope="roster", source="imported"
            )
        )
        row = conn.execute(sa.select(Agent.id, Agent.tenant_id).where(Agent.id == upper.lower())).one()
    assert row.id == upper.lower()
    assert row.tenant_id == upper.lower()
    engine.dispose()


def test_unknown_enum_values_load_flagged(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)
    migrate.upgrade(engine, "mirror")
    agent_id = uuidv7()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Agent).values(
                id=agent_id,
                tenant_id=uuidv7(),
                name="n",
                description="",
                scope="roster",
                source="marketplace",
            )
        )
        conn.execute(
            sa.insert(AgentConfigRevision).values(
                id=uuidv7(),
                tenant_id=uuidv7(),
                agent_id=agent_id,
                current_snapshot_id=uuidv7(),
                revision=1,
                operation="restore_version",
            )
        )
        source = conn.execute(sa.select(Agent.source)).scalar_one()
        operation = conn.execute(sa.select(AgentConfigRevision.operation)).scalar_one()
    assert source == EnumValue("marketplace", None)
    assert not source.known and source.label() == "marketplace (unknown value)"
    assert operation.member is RevisionOperation.RESTORE_VERSION
    engine.dispose()


def test_enum_value_parse() -> None:
    assert EnumValue.parse(AgentSource, "workflow").member is AgentSource.WORKFLOW
    assert EnumValue.parse(AgentSource, "roster").member is AgentSource.ROSTER
    assert EnumValue.parse(AgentSource, "").member is None


@pytest.mark.parametrize(
    ("raw", "ok", "error_part"),
    [
        ('{"a": 1}', True, None),
        ("{not json", False, "invalid JSON"),
        ("", False, "empty"),
        (None, False, "NULL"),
        ("[]", False, "not an object"),
    ],
)
def test_parse_json_never_raises(raw: str | None, ok: bool, error_part: str | None) -> None:
    result = parse_json(raw, expect_object=True)
    assert result.ok is ok
    if error_part:
        assert error_part in (result.error or "")
    else:
        assert result.value == {"a": 1}


def test_parse_json_deeply_nested_does_not_raise() -> None:
    result = parse_json("[" * 100_000 + "]" * 100_000)
    assert result.error is not None or result.value is not None


def test_uuidv7_sorts_by_time_and_carries_it() -> None:
    first = uuidv7(1_700_000_000_000)
    second = uuidv7(1_700_000_000_001)
    assert first < second
    assert uuidv7_time(first).year == 2023
    assert uuidv7_time("11111111-1111-4111-8111-111111111111") is None
    assert json.dumps(naive_utc_now().isoformat())


def test_normalize_uuid() -> None:
    assert normalize_uuid("  0193ABCD-0000-7000-8000-00000000FFFF ") == "0193abcd-0000-7000-8000-00000000ffff"
    assert normalize_uuid("0193abcd00007000800000000000ffff") == "0193abcd-0000-7000-8000-00000000ffff"
    assert normalize_uuid("nope") is None


def test_params_drop_invalid_values_with_notice() -> None:
    params = parse_params(
        {"tenant": "bad", "sort": "name", "updated_from": "2026-13-01", "q": "x"},
        {"tenant": "uuid", "sort": ("updated", "name"), "updated_from": "date", "q": "text"},
    )
    assert params.values == {"sort": "name", "q": "x"}
    assert len(params.notices) == 2


def test_too_deep_json_is_an_error_not_a_crash() -> None:
    from data.diff import diff_configs
    from data.masking import mask_json_text

    deep = '{"a": ' + "[" * 600 + "]" * 600 + "}"
    assert "deeper" in (parse_json(deep).error or "")
    assert mask_json_text(deep)  # falls back to token-scrubbed text
    assert diff_configs(deep, "{}").left_error
