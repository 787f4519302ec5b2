"""OpenAPI postprocessing: the error answers every endpoint can give, declared once for all of them.

Each view documents its success responses; the error shape is the same everywhere (apps/core/api/
exceptions.py: a JSON object, `detail` or one list of messages per field), so rather than repeating it on
every view, this hook adds to each operation the error statuses the base classes produce, unless the view
declared them itself: 400 (invalid body or query), 401 (no or bad credentials), 403 (role lacks the
action's scope), 404 (an object that does not exist or is not yours, for paths naming one), 409 (a
conflict with the current state, for writes), 429 (throttled) and 503 (the database or the cache is
unreachable: apps/core/unavailable.py)."""

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: `detail` names the problem; a validation error has one list of messages per "
    "invalid field instead.",
    "properties": {"detail": {"description": "A message, or a list or mapping of messages."}},
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "Invalid request (body, query parameters or headers).",
    "401": "Authentication credentials were not provided or are invalid.",
    "403": "The caller's role does not allow this action.",
    "404": "Not found, or not visible to the caller.",
    "409": "The request conflicts with the current state of the resource.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
    "503": "Service temporarily unavailable (`code`: `database_unavailable` or `cache_unavailable`); retry "
    "after the number of seconds in Retry-After, with the same Idempotency-Key for a POST.",
}
WRITES = {"post", "put", "patch", "delete"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def _statuses(path: str, method: str, operation: dict) -> list[str]:
    anonymous = {} in operation.get("security", [{}]) and len(operation.get("security", [])) == 1
    statuses = ["400", "429", "503"]
    if not anonymous:
        statuses += ["401", "403"]
    if "{" in path:
        statuses.append("404")
    if method in WRITES:
        statuses.append("409")
    return statuses


def declare_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses.setdefault(
                    status,
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
