"""AWS calls that fail for a moment become ``Unavailable``: HTTP 503 with ``Retry-After`` on a request,
a retried message on a worker. Never a 500, and never a 404 that would tell a client its data is gone.

``guarded`` wraps a whole adapter (the composition root wraps every one), so no adapter method can forget
it. What the adapters already translate (``NotFound``, ``Conflict``, ``DeliveryFailed``…) passes through;
so does an SDK error that is not transient (a 4xx is a bug of ours, and stays a logged 500).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import Unavailable

T = TypeVar("T")

#: Error codes AWS answers when a call may succeed if tried again.
_TRANSIENT_CODES = {
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
}


def guarded(adapter: T) -> T:
    """``adapter`` with every transient AWS failure of its methods raised as ``Unavailable``."""
    return cast(T, _Guarded(adapter))


def is_transient(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it: pynamodb wraps botocore's errors) is a passing AWS fault."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ClientError):
            error = current.response.get("Error", {})
            status = int(current.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            return status >= 500 or error.get("Code") in _TRANSIENT_CODES
        if isinstance(current, BotoCoreError):
            return True  # no answer at all: a connection refused, reset or timed out
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    return False


class _Guarded:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except Exception as err:
                if is_transient(err):
                    raise Unavailable() from err
                raise

        return call
