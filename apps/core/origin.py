"""Where the current write comes from (channel, address, user agent), for the audit trail."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    channel: str  # api, web, admin, task, command
    ip: str | None = None
    user_agent: str = ""


_COMMAND = Origin(channel="command")
_origin: ContextVar[Origin | None] = ContextVar("vigil_origin", default=None)


def current_origin() -> Origin:
    return _origin.get() or _COMMAND


@contextmanager
def origin_as(origin: Origin):
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)
