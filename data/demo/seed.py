"""Orchestration: create the sink of the generation, tell the story, add the bulk, count."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import sqlalchemy as sa

from data.demo.bulk import _bulk
from data.demo.context import _Ctx, _Tenant
from data.demo.scales import SCALES, DemoSummary, Scale
from data.demo.sink import _Sink
from data.demo.stories.acme import _story_acme
from data.demo.stories.globex import _story_globex
from data.demo.stories.northwind import _story_northwind
from data.demo.stories.workspaces import add_story as add_workspaces_story
from data.demo.tenants import _write_tenants
from data.demo.workspaces_sink import WorkspacesSink
from data.models.generations import DEFAULT_GENERATION, SESSIONS, check_generation


def _story(ctx: _Ctx, scale: Scale) -> list[_Tenant]:
    rng = random.Random(f"{ctx.seed}/story")
    tenants = _write_tenants(ctx, rng, scale)
    _story_acme(ctx, rng, tenants[0])
    _story_northwind(ctx, rng, tenants[1])
    _story_globex(ctx, rng, tenants[2])
    return tenants


def seed_demo(
    conn: sa.Connection,
    *,
    now: datetime,
    scale: str = "S",
    seed: int = 7,
    generation: str = DEFAULT_GENERATION,
) -> DemoSummary:
    """Insert the demo dataset of one schema generation through `conn` (the caller owns the
    transaction) and count the rows.

    `now` is naive UTC (an aware datetime is converted); every timestamp is relative to it. The same
    (now, scale, seed, generation) always produces identical rows. The tables must exist and be empty.
    `sessions` writes runtime sessions; `workspaces` (`data.demo.workspaces_sink`, `data.demo.stories.workspaces`) turns the same story into
    working environments and adds what Dify 1.16/1.17 added (drafts, home snapshots, ...).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    if check_generation(generation) == SESSIONS:
        sink = _Sink(conn)
    else:
        sink = WorkspacesSink(conn, now=now, seed=seed)
    ctx = _Ctx(now=now, seed=seed, sink=sink)
    tenants = _story(ctx, SCALES[scale])
    _bulk(ctx, SCALES[scale], tenants)
    if generation != SESSIONS:
        add_workspaces_story(ctx, tenants)
    sink.flush()
    return DemoSummary(scale=scale, seed=seed, **sink.counts)
