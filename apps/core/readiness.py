"""Details that `/readyz` reports beside its checks, contributed by apps above core (each registers in its
AppConfig.ready(), as event subscribers do). A detail informs whoever watches the service; it never makes
the process "not ready": readiness is whether this process can serve (database and broker), and a failing
SMTP server is no reason for a load balancer to stop sending it requests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Detail = Callable[[], dict[str, Any]]
_details: dict[str, Detail] = {}


def readiness_detail(name: str) -> Callable[[Detail], Detail]:
    """Register `detail` under `name` in /readyz's `details`."""

    def register(detail: Detail) -> Detail:
        _details[name] = detail
        return detail

    return register


def readiness_details() -> dict[str, dict[str, Any] | None]:
    """Every registered detail; one that cannot be computed now is `null` (and logged), never an error."""
    details: dict[str, dict[str, Any] | None] = {}
    for name, detail in _details.items():
        try:
            details[name] = detail()
        except Exception:  # a detail must not turn the readiness answer into a 500
            logger.warning("readiness: detail %s unavailable", name, exc_info=True)
            details[name] = None
    return details
