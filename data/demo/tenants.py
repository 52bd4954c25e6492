"""The three story workspaces, their members, datasets and credential ids."""

from __future__ import annotations

import random
import unicodedata
from datetime import timedelta

from data.demo.catalog import FIRST_NAMES, LAST_NAMES, MODELS, TOOLS
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.ids import DemoIds
from data.demo.primitives import _v4
from data.demo.scales import Scale
from data.models import (
    Account,
    Tenant,
    TenantAccountJoin,
)

MIGRATION_AGE = timedelta(days=98)

# fmt: off
TENANT_SPECS = (
    # id, workspace name, company (in prompts), email domain, plan, age in days
    (DemoIds.TENANT_ACME, "Acme Robotics", "Acme Robotics", "acme-robotics.example", "team", 640),
    (DemoIds.TENANT_NORTHWIND, "Northwind Health", "Northwind Health", "northwind-health.example", "professional", 420),
    (DemoIds.TENANT_GLOBEX, "Globex Research Lab", "the Globex lab", "globex-lab.example", "sandbox", 300),
)
MEMBERS = (
    # tenant index, name, role, fixed id, account status
    (0, "Maya Chen", "owner", DemoIds.ACCOUNT_OWNER, "active"),
    (0, "Omar Haddad", "admin", None, "active"),
    (0, "Lena Fischer", "editor", None, "active"),
    (0, "Kenji Watanabe", "editor", None, "active"),
    (0, "Aiko Tanaka", "normal", None, "active"),
    (1, "Priya Raman", "owner", None, "active"),
    (1, "Diego Alvarez", "editor", None, "active"),
    (1, "Fatima Khan", "admin", None, "active"),
    (1, "Hugo Dubois", "dataset_operator", None, "active"),
    (1, "Elif Yılmaz", "normal", None, "pending"),
    (2, "Sofia Rossi", "owner", None, "active"),
    (2, "Maya Chen", "admin", DemoIds.ACCOUNT_OWNER, "active"),  # one person, two workspaces
    (2, "Amara Okafor", "editor", None, "active"),
    (2, "Wei Zhang", "editor", None, "active"),
    (2, "Sven Andersson", "normal", None, "banned"),
)
DATASETS = (
    ("Product FAQ", "Return Policy 2026", "Robot Arm Service Manuals", "Spare Parts Catalog",
     "Internal Escalation Playbook", "Sales Playbook Q3", "Engineering Handbook"),
    ("Patient FAQ", "Clinic Opening Hours", "ICD-10 Coding Guide", "Insurance Pre-authorization Rules",
     "Discharge Templates", "HR Onboarding Guide"),
    ("arXiv Reading List", "Lab Protocols", "Grant Guidelines 2026", "Instrument Manuals", "Internal Wiki"),
)
# fmt: on


def _email(name: str, domain: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return f"{ascii_name.lower().replace(' ', '.')}@{domain}"


def _write_tenants(ctx: _Ctx, rng: random.Random, scale: Scale) -> list[_Tenant]:
    """Workspaces, their members (accounts + joins), datasets and credential ids."""
    tenants = [_write_tenant(ctx, rng, index, spec) for index, spec in enumerate(TENANT_SPECS)]
    accounts: dict[str, _Person] = {}
    for tenant_index, name, role, account_id, status in MEMBERS:
        _join(ctx, rng, accounts, tenants[tenant_index], name, role, account_id, status)
    # Jonas Berg created agents at Acme, then left: his account exists, his membership does not.
    ctx.sink.add(
        Account,
        id=DemoIds.ACCOUNT_DEPARTED,
        name="Jonas Berg",
        email="jonas.berg@acme-robotics.example",
        status="closed",
        created_at=ctx.ago(600),
        updated_at=ctx.ago(150),
    )
    for tenant in tenants:
        for _ in range(scale.extra_accounts_per_tenant):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            _join(
                ctx, rng, accounts, tenant, name, rng.choice(("editor", "normal", "normal")), None, "active"
            )
    return tenants


def _write_tenant(
    ctx: _Ctx, rng: random.Random, index: int, spec: tuple[str, str, str, str, str, int]
) -> _Tenant:
    tenant_id, name, company, domain, plan, age = spec
    created = ctx.ago(age)
    ctx.sink.add(
        Tenant,
        id=tenant_id,
        name=name,
        plan=plan,
        status="normal",
        created_at=created,
        updated_at=ctx.ago(rng.uniform(1, 30)),
    )
    tenant = _Tenant(index, tenant_id, name, company, domain, created)
    tenant.datasets = [(_v4(rng), dataset) for dataset in DATASETS[index]]
    tenant.credentials = {key: _v4(rng) for key in [*TOOLS, *sorted({m.provider for m in MODELS})]}
    return tenant


def _join(
    ctx: _Ctx,
    rng: random.Random,
    accounts: dict[str, _Person],
    tenant: _Tenant,
    name: str,
    role: str,
    account_id: str | None,
    status: str,
) -> None:
    """A membership (and the account, the first time the person appears); active members edit agents."""
    person = accounts.get(account_id or "")
    if person is None:
        person = _Person(account_id or _v4(rng), name, _email(name, tenant.domain))
        joined = tenant.created_at + timedelta(days=rng.uniform(0, 60))
        ctx.sink.add(
            Account,
            id=person.id,
            name=name,
            email=person.email,
            status=status,
            created_at=joined,
            updated_at=ctx.ago(rng.uniform(0, 20)),
        )
        accounts[person.id] = person
    ctx.sink.add(
        TenantAccountJoin,
        id=_v4(rng),
        tenant_id=tenant.id,
        account_id=person.id,
        role=role,
        created_at=tenant.created_at + timedelta(days=rng.uniform(0, 60)),
        updated_at=ctx.ago(rng.uniform(20, 90)),
    )
    if status == "active":
        tenant.members.append(person)
