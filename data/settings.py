"""Operator settings, read from the environment (names as in the interface contract)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_DB_FILENAME = "demo.sqlite"


class RoleEntry:
    """One `AGENT_DESK_VIEWERS`-style entry: an email or `@domain`, optionally `:tenant-id` scoped."""

    __slots__ = ("pattern", "tenant_id")

    def __init__(self, text: str) -> None:
        pattern, _, tenant = text.strip().partition(":")
        self.pattern = pattern.strip().lower()
        self.tenant_id = tenant.strip().lower() or None

    def __repr__(self) -> str:
        return f"RoleEntry({self.pattern!r}, tenant={self.tenant_id!r})"


class Settings(BaseSettings):
    """Everything an operator can set. Unset `DATABASE_URL` means the embedded SQLite demo."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    database_read_url: str | None = Field(default=None, alias="DATABASE_READ_URL")
    data_dir: Path = Field(default=Path(".agent-desk"), alias="AGENT_DESK_DATA_DIR")
    allow_writes: bool = Field(default=False, alias="AGENT_DESK_ALLOW_WRITES")
    read_only: bool = Field(default=False, alias="AGENT_DESK_READ_ONLY")
    idle_days: int = Field(default=7, ge=1, alias="AGENT_DESK_IDLE_DAYS")
    viewers: str = Field(default="", alias="AGENT_DESK_VIEWERS")
    operators: str = Field(default="", alias="AGENT_DESK_OPERATORS")
    admins: str = Field(default="", alias="AGENT_DESK_ADMINS")
    console_url: str | None = Field(default=None, alias="AGENT_DESK_CONSOLE_URL")
    # Extension (README): the address people open Agent Desk at (e.g. https://desk.example.com), so the
    # "link to this view" box and the CLI print absolute, clickable URLs. Unset: relative links.
    public_url: str | None = Field(default=None, alias="AGENT_DESK_PUBLIC_URL")
    statement_timeout_ms: int = Field(default=5000, ge=0, alias="AGENT_DESK_STATEMENT_TIMEOUT_MS")
    # Extensions (README): above this many rows a cleanup asks to type the count; rows per transaction.
    cleanup_confirm_above: int = Field(default=20, ge=0, alias="AGENT_DESK_CLEANUP_CONFIRM_ABOVE")
    cleanup_batch_size: int = Field(default=1_000, ge=1, le=10_000, alias="AGENT_DESK_CLEANUP_BATCH")
    # Extension (README): turn sign-in on; requires an [auth] section in .streamlit/secrets.toml.
    auth_enabled: bool = Field(default=False, alias="AGENT_DESK_AUTH")
    # Hand-off to Dify's collector (docs/collection.md): Dify's CELERY_BROKER_URL; unset means no hand-off
    # (retired rows stay retired until Dify's collector runs). May hold a password: never shown unmasked.
    celery_broker_url: str | None = Field(default=None, alias="AGENT_DESK_CELERY_BROKER_URL")
    collect_queue: str = Field(default="retention", min_length=1, alias="AGENT_DESK_COLLECT_QUEUE")
    # The `uncollected` rule: retired this many hours ago and still present.
    uncollected_hours: int = Field(default=24, ge=1, alias="AGENT_DESK_UNCOLLECTED_HOURS")
    # Structured logs of every write and refusal (data/logs.py): a level (DEBUG, INFO, WARNING...) turns
    # on one stderr handler on the `agent_desk` loggers; unset, nothing is configured. Format kv or json.
    log_level: str | None = Field(default=None, alias="AGENT_DESK_LOG_LEVEL")
    log_format: Literal["kv", "json"] = Field(default="kv", alias="AGENT_DESK_LOG_FORMAT")

    @field_validator(
        "database_url",
        "database_read_url",
        "console_url",
        "public_url",
        "celery_broker_url",
        "log_level",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _http_origin(cls, value: str | None) -> str | None:
        """An http(s) base URL (a path prefix is allowed, for a reverse proxy); no query or fragment."""
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("AGENT_DESK_PUBLIC_URL must be an http(s) URL such as https://desk.example.com")
        return value.strip().rstrip("/")

    @property
    def is_demo(self) -> bool:
        """The embedded demo is exactly "the database used when DATABASE_URL is unset"."""
        return self.database_url is None

    @property
    def demo_db_path(self) -> Path:
        return self.data_dir / DEMO_DB_FILENAME

    @property
    def write_url(self) -> str:
        return self.database_url or f"sqlite:///{self.demo_db_path}"

    @property
    def read_url(self) -> str:
        return self.database_read_url or self.write_url

    @cached_property
    def role_entries(self) -> dict[str, list[RoleEntry]]:
        def parse(text: str) -> list[RoleEntry]:
            return [RoleEntry(part) for part in text.split(",") if part.strip()]

        return {"viewer": parse(self.viewers), "operator": parse(self.operators), "admin": parse(self.admins)}


def load_settings() -> Settings:
    return Settings()
