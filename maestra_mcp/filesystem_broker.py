"""kombu's filesystem transport: a real Celery broker with no server.

The broker of a newcomer's first run (``CELERY_BROKER_URL=filesystem://``) and of
the embedded-default variant of the worker tests. Both lay out its folders here.
"""

from __future__ import annotations

from pathlib import Path


def filesystem_transport_options(folder: Path) -> dict[str, str | bool]:
    """Transport options for a broker kept in ``folder`` (its folders must exist before use)."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str(folder / "control"),
    }
