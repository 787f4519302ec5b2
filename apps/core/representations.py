"""How an object is shown to systems outside Vigil (webhook bodies), registered by the app that owns its
model (in its AppConfig.ready): the object as the app's API shows it to a reader of its tenant who may not
know a confidential reporter, so a body carries the API's field names and formats and nothing internal
(storage keys, hashes of secrets). The rule for need-to-know incidents is the caller's (webhooks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Representer = Callable[[Any], dict]  # the object's id -> its representation
_representers: dict[str, Representer] = {}


def register_representation(model_label: str, representer: Representer) -> None:
    """`model_label` as in DomainEvent.target_type, e.g. "response.incident"."""
    _representers[model_label] = representer


def representation(model_label: str, object_id) -> dict | None:
    """The object's representation, or None when its model registered none."""
    representer = _representers.get(model_label)
    return None if representer is None else representer(object_id)
