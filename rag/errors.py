"""The error tree the service maps to HTTP status codes."""


class RagError(Exception):
    """Base class for every error this library raises on purpose."""


class InvalidInput(RagError):
    """The caller sent something unusable (maps to 422/400)."""


class NotFound(RagError):
    """A named document or index does not exist (maps to 404)."""


class IndexMismatch(RagError):
    """The stored index does not match the settings or its own manifest (maps to 503)."""
