"""Domain errors. Each names a fact; ``api/errors.py`` maps them to HTTP in one table.

Messages are shown to the caller, so they must never carry patient data: name fields, positions and
opaque ids only.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the service reports to its callers."""

    #: The code callers see (the API's ``Code``, the admin command's ``error``): the class's name unless a
    #: class that only words a refusal more finely for people keeps its parent's code for programs.
    public_code: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error_code(self) -> str:
        """What programs are told this error is."""
        return self.public_code or type(self).__name__


class InvalidInput(DomainError):
    """A well-formed request whose content breaks a rule (HTTP 422)."""


class MalformedRequest(DomainError):
    """A request that cannot be parsed at all (HTTP 400)."""


class NotFound(DomainError):
    """The thing does not exist, or belongs to another clinic (HTTP 404: we never say which)."""


class Conflict(DomainError):
    """The request clashes with the current state (HTTP 409)."""


class StaleWrite(Conflict):
    """A write based on a version of a record that has been written since (HTTP 409 if it persists)."""


class Gone(DomainError):
    """The thing existed but is no more: expired or deleted (HTTP 410)."""


class Unauthenticated(DomainError):
    """No usable credentials (HTTP 401)."""


class Forbidden(DomainError):
    """Credentials are known but may not do this (HTTP 403)."""


class Locked(DomainError):
    """Refused for a while after too many attempts (HTTP 423, with ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class TooManyRequests(DomainError):
    """Over a rate or quota (HTTP 429, with ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class Unavailable(DomainError):
    """A storage or messaging service failed for a moment (HTTP 503, with ``Retry-After``; a worker's
    message is retried)."""

    def __init__(self, message: str = "A storage service failed for a moment; retry shortly", retry_after_s: int = 5):
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class TooLarge(DomainError):
    """The payload is over a limit (HTTP 413)."""


class UnsupportedMediaType(DomainError):
    """The content type is not one we accept (HTTP 415)."""


class NotAcceptable(DomainError):
    """The client accepts none of the media types we answer with (HTTP 406)."""


class DeliveryFailed(DomainError):
    """E-mail or SMS was refused or unreachable (HTTP 502); ``code`` is the provider's error code."""

    def __init__(self, code: str) -> None:
        super().__init__("The message could not be delivered")
        self.code = code
