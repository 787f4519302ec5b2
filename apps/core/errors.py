"""Domain errors that services raise; each interface (API, pages, admin) renders them its own way."""

from collections.abc import Mapping
from typing import Any


class Conflict(Exception):
    """The request is valid but not allowed in the object's current state (the API answers 409).

    `code` names the state for clients that branch on it (e.g. "closed"); `details` are further members
    of the API's JSON body (e.g. the open actions that stop a close)."""

    def __init__(self, message: str, *, code: str = "", details: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.details = dict(details or {})
