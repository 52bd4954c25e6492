"""All SQL lives in `data/stores/`: the write services, the commands and the CLI build no statement.

import-linter works on modules, and these modules need `sqlalchemy` for `Engine` and `Connection`, so
the rule is checked on the syntax tree instead: no call of a statement builder (`select`, `update`,
`insert`, `delete`, `text`, `func.*`, `exists`, `union`), no locking or RETURNING clause
(`with_for_update`, `returning`), no raw SQL (`exec_driver_sql`), and no import of a builder by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = sorted(
    [
        *(ROOT / "data" / "services").glob("*.py"),
        *(ROOT / "data" / "commands").glob("*.py"),
        ROOT / "data" / "cli.py",
        ROOT / "data" / "cli_workspaces.py",
    ]
)
BUILDERS = {"select", "update", "insert", "delete", "text", "exists", "union", "union_all", "lateral"}
CLAUSES = {"with_for_update", "returning", "exec_driver_sql", "from_statement"}
SQLALCHEMY = {"sa", "sqlalchemy"}


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def statements_built(source: str, filename: str = "<source>") -> list[str]:
    """`line: what` for every statement builder used in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name in BUILDERS or alias.name == "func":
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Attribute):
            if node.attr in CLAUSES:
                found.append(f"{node.lineno}: .{node.attr}")
            elif _root_name(node) in SQLALCHEMY and (node.attr in BUILDERS or node.attr == "func"):
                found.append(f"{node.lineno}: sa.{node.attr}")
    return found


def test_the_checker_sees_statements() -> None:
    """The rule can fail: each form a service might use is caught."""
    source = """
import sqlalchemy as sa
from sqlalchemy import select
q = sa.select(1).with_for_update(skip_locked=True)
conn.execute(sa.update(T).values(a=1).returning(T.id))
conn.execute(sa.insert(T)); conn.execute(sa.text("x")); sa.func.count(); conn.exec_driver_sql("x")
"""
    found = statements_built(source)
    assert {f.split(": ", 1)[1] for f in found} >= {
        "from sqlalchemy import select",
        "sa.select",
        ".with_for_update",
        "sa.update",
        ".returning",
        "sa.insert",
        "sa.text",
        "sa.func",
        ".exec_driver_sql",
    }
    assert statements_built("import sqlalchemy as sa\ndef f(conn: sa.Connection, e: sa.Engine): pass\n") == []


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_stores(path: Path) -> None:
    assert statements_built(path.read_text(), str(path)) == [], (
        f"{path.relative_to(ROOT)} builds SQL: move the statement into a data/stores/ module"
    )
