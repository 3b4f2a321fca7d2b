"""Powertools Logger and Metrics, created once for the whole process.

Log and measure opaque ids only (clinic_id, share_id, key_id, request ids): never names, patient
ids, e-mail addresses, phone numbers, message text, file names or link tokens.

Tracing is Lambda's own active tracing (``"xray": true`` in ``.chalice/config.json``): each invocation
is a trace segment with its duration and errors, and Powertools' correlation id ties it to our log
lines. There is no in-process tracer: Powertools' Tracer imports the AWS X-Ray SDK, which entered
maintenance in 2026 (end of support 2027-02-25) and was the largest single import of a cold start, and
no span of ours has yet paid for an OpenTelemetry layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.settings import settings

__all__ = ["MetricUnit", "count", "logger", "metrics", "observed"]

F = TypeVar("F", bound=Callable[..., Any])

logger = Logger(service=settings().service_name)
metrics = Metrics(namespace=settings().metrics_namespace, service=settings().service_name)


def count(name: str, value: float = 1) -> None:
    """Add to a count metric of this invocation (flushed by the middleware at its end)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Write this invocation's metrics as one EMF log line, if it recorded any."""
    if metrics.metric_set:
        metrics.flush_metrics()


def observed(handler: F) -> F:
    """Flush an event handler's metrics when it ends.

    A worker Lambda imports its Blueprint module, not ``app.py``, so the app's middleware does not run
    there: the handler brings its own.
    """

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            flush_metrics()

    return wrapper  # type: ignore[return-value]
