"""Stores: all SQL of Agent Desk. One module per aggregate; each function takes a connection owned by the
caller and returns frozen dataclasses. Tenant-scoped queries filter on `tenant_id` whenever given."""
