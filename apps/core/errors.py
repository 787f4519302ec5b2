"""Domain errors that services raise; each interface (API, pages, admin) renders them its own way."""


class Conflict(Exception):
    """The request is valid but not allowed in the object's current state (the API answers 409)."""
