"""The error tree the service maps to HTTP status codes."""


class RagError(Exception):
    """Base class for every error this library raises on purpose."""


class InvalidInput(RagError):
    """The caller sent something unusable (maps to 422/400)."""


class NotFound(RagError):
    """A named document or index does not exist (maps to 404)."""


class IndexMismatch(RagError):
    """The stored index does not match the settings or its own manifest (maps to 503)."""


class UnsupportedFormat(InvalidInput):
    """A file type no loader handles (maps to 415)."""


class PayloadTooLarge(InvalidInput):
    """An upload or body over its configured size limit (maps to 413)."""


class Conflict(RagError):
    """The request clashes with the collection, e.g. a duplicate upload (maps to 409)."""


class Unauthorized(RagError):
    """No credentials for a protected operation (maps to 401)."""


class Forbidden(RagError):
    """Wrong credentials, or an operation this deployment does not allow (maps to 403)."""


class GeneratorUnavailable(RagError):
    """The configured answer model cannot be used (a missing extra, file or endpoint)."""
