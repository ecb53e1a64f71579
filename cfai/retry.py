"""The retry policy: which failures are worth another attempt, and how long to wait first.

Pure decisions only; the transport's request loop is the single place that acts on them (it owns the sleeping), so
retries never stack. Modelled on the rules every major HTTP API client follows: retry 408, 409, 429 and 5xx and
connection failures, honour `Retry-After` within a cap, otherwise exponential backoff with jitter.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from cfai.errors import (
    DAILY_QUOTA_CODE,
    APIConnectionError,
    APIStatusError,
    WorkersAIError,
    parse_retry_after,
)

__all__ = ["RetryPolicy", "is_retryable", "parse_retry_after", "retry_delay"]

_RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0


def is_retryable(error: WorkersAIError) -> bool:
    if isinstance(error, APIConnectionError):
        return True
    if not isinstance(error, APIStatusError):
        return False
    # 3036 means the daily free allocation is spent: retrying only burns time until midnight UTC.
    if error.code == DAILY_QUOTA_CODE:
        return False
    return error.status_code in _RETRYABLE_STATUSES or error.status_code >= 500


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    error: WorkersAIError,
    *,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retry number `attempt + 1`, or None when the error must be raised now.

    `attempt` counts the retries already made (0 after the first failure). A server that asks for a longer wait
    than `max_retry_after` is not retried sooner than it asked: the error is raised, carrying `retry_after`.
    """
    if attempt >= policy.max_retries or not is_retryable(error):
        return None
    retry_after = error.retry_after if isinstance(error, APIStatusError) else None
    if retry_after is not None:
        return retry_after if retry_after <= policy.max_retry_after else None
    backoff = min(policy.initial_delay * 2**attempt, policy.max_delay)
    # Equal jitter: half the backoff is fixed, half random, so a burst of clients spreads out but none retries at once.
    return float(backoff * (0.5 + 0.5 * rand()))
