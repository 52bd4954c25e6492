"""The runtime-session leak rules as one API: each rule's predicate (`data.rules.session_leaks`, pure)
paired with its SQL condition (`data.stores.session_leaks`). The rules and their invariants are
documented in `data.rules.session_leaks`; parity of predicate and SQL is tested on the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data.rules.session_leaks import (
    RULE_NAMES,
    RuleContext,
    SessionFacts,
    classify,
    in_flight,
)
from data.rules.session_leaks import RULES as SPECS
from data.stores.session_leaks import (
    CONDITIONS,
    FACT_COLUMNS,
    any_rule_condition,
    fact_columns,
    facts_from_row,
    first_match_condition,
    in_flight_condition,
    load_facts,
)

__all__ = [
    "BY_NAME",
    "FACT_COLUMNS",
    "RULES",
    "RULE_NAMES",
    "LeakRule",
    "RuleContext",
    "SessionFacts",
    "any_rule_condition",
    "classify",
    "fact_columns",
    "facts_from_row",
    "first_match_condition",
    "in_flight",
    "in_flight_condition",
    "load_facts",
]


@dataclass(frozen=True)
class LeakRule:
    name: str
    summary: str
    predicate: Callable[[SessionFacts, RuleContext], bool]
    condition: Callable[[RuleContext, Any], sa.ColumnElement[bool]]  # (ctx, session entity)


RULES: tuple[LeakRule, ...] = tuple(
    LeakRule(r.name, r.summary, r.predicate, CONDITIONS[r.name]) for r in SPECS
)
BY_NAME = {r.name: r for r in RULES}
