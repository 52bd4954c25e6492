"""Row counts that stay cheap on big tables: exact up to a bound, otherwise the planner's estimate.

Never a full COUNT(*) of a large table: a bounded count reads at most `EXACT_LIMIT + 1` rows, and
beyond that the statistics PostgreSQL (pg_class / pg_stats) or MySQL (information_schema) keep are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

EXACT_LIMIT = 20_000


@dataclass(frozen=True)
class Count:
    """A count that says whether it is exact. `lower_bound` means "at least value" (no estimate known)."""

    value: int
    exact: bool = True
    lower_bound: bool = False

    def label(self) -> str:
        if self.exact:
            return f"{self.value:,}"
        if self.lower_bound:
            return f"> {self.value:,}"
        return f"≈ {self.value:,}"


def bounded_count(conn: sa.Connection, query: sa.Select) -> Count:
    """Exact when the query has at most EXACT_LIMIT rows, else a lower bound; reads at most limit+1 rows."""
    inner = (
        query.with_only_columns(sa.literal(1), maintain_column_froms=True).limit(EXACT_LIMIT + 1).subquery()
    )
    value = conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()
    if value <= EXACT_LIMIT:
        return Count(value)
    return Count(EXACT_LIMIT, exact=False, lower_bound=True)


def estimated_rows(conn: sa.Connection, table: str) -> int | None:
    """The planner's row estimate for a table, or None when the database keeps none."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        value = conn.execute(
            sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        ).scalar()
        return int(value) if value is not None and value >= 0 else None
    if dialect in ("mysql", "mariadb"):
        value = conn.execute(
            sa.text(
                "SELECT table_rows FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name = :t"
            ),
            {"t": table},
        ).scalar()
        return int(value) if value is not None else None
    return None


def estimated_value_counts(conn: sa.Connection, table: str, column: str, total: int) -> dict[str, int]:
    """Per-value estimates from PostgreSQL's most-common-values statistics (empty elsewhere)."""
    if conn.dialect.name != "postgresql":
        return {}
    row = conn.execute(
        sa.text(
            "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = :t AND attname = :c"
        ),
        {"t": table, "c": column},
    ).first()
    if row is None or row[0] is None:
        return {}
    return {value: round(freq * total) for value, freq in zip(row[0], row[1], strict=False)}
