"""Signals the reporting core sends, for layers above it to observe (e.g. metrics)."""

from django.dispatch import Signal

# Sent once per stats_import call, imported, dry run or refused, with
# ``outcome`` ("imported", "dry_run" or "refused"), ``rows`` (0 when refused) and
# ``seconds``. reporting/ knows nothing of who listens (maestra_mcp.operations.metrics).
stats_import_finished = Signal()
