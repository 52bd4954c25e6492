"""Services: logic over store results (diff, integrity checks, cleanup, retire, audit, exports) and the
orchestration of writes: the gate (`data.guard.require_write` / `require_bookkeeping`), the transactions
(`write_transaction`), the re-checks, the audit in the same transaction and the log records
(`data.logs`). No SQL (the statements are in `data.stores`; tests/test_sql_in_stores.py), no streamlit."""
