"""Celery workers KCBX starts for a region (kcbx/orchestration/services.py)."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    """Airflow's hostname_callable: the machine, and the worker's name when set, so task
    instances tell apart two workers on one machine (KCBX_WORKER_NAME)."""
    name = socket.getfqdn()
    worker = os.environ.get("KCBX_WORKER_NAME")
    return f"{name}/{worker}" if worker else name
