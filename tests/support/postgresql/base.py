"""The test suite's database backend: Django's PostgreSQL backend, flushing by DELETE.

A ``transactional_db`` test (every test that serves MCP over a real server thread)
ends with a flush of every table. Django's PostgreSQL flush is one ``TRUNCATE`` of
all of them, which costs 0.15-0.4 s on this suite's ~40 small tables (PostgreSQL
drops each table's files and scans its shared buffers); ``DELETE FROM`` on each
costs ~0.01 s. Over ~250 such tests that was a minute and more of the fast tier.

The flush runs in one transaction and Django creates PostgreSQL foreign keys
``DEFERRABLE INITIALLY DEFERRED``, so the order of the deletes does not matter.
When sequences must be reset (``django_db(reset_sequences=True)``) the stock
``TRUNCATE … RESTART IDENTITY`` is kept.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
