"""The exception tree, the one translation of a failed HTTP reply into it, and the translation of an HTTP library's
own failures (`TranslatedErrors`, which each transport module configures for its library).

    WorkersAIError
    ├── APIConnectionError            the request never got an HTTP answer
    │   └── APITimeoutError
    ├── APIStatusError                an HTTP error status (status_code, code, message, request_id, body)
    │   ├── BadRequestError           400, 413, 422
    │   │   └── ContextWindowExceededError
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── RateLimitError            429 (code 3040: capacity, retried; 3036: daily quota, not retried)
    │   └── InternalServerError       5xx
    ├── ResponseFailedError           a 200 reply whose status is "failed" or that carries an error object
    └── ResponseFormatError           a reply or stream that cannot be parsed

    WorkersAIWarning (UserWarning), issued at the caller's line (`warn_at_caller`)
    ├── EmptyAnswerWarning            a finished reply with no answer (most often: reasoning spent the budget)
    ├── InvalidToolArgumentsWarning   a tool call whose arguments are not a JSON object
    └── DroppedInputWarning           input left out of a request because the server would refuse it

Cloudflare answers with its v4 envelope (`{"success": false, "errors": [{"code", "message"}]}`); OpenAI-compatible
servers answer `{"error": {...}}`; proxies answer HTML. All three become the same typed error here, and only here.
"""

from __future__ import annotations

import email.utils
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContextWindowExceededError",
    "DroppedInputWarning",
    "EmptyAnswerWarning",
    "InternalServerError",
    "InvalidToolArgumentsWarning",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseFailedError",
    "ResponseFormatError",
    "TranslatedErrors",
    "WorkersAIError",
    "WorkersAIWarning",
    "error_from_status",
    "parse_retry_after",
    "redact",
    "warn_at_caller",
]

DAILY_QUOTA_CODE = 3036


class WorkersAIError(Exception):
    """Root of every error this package raises."""


class WorkersAIWarning(UserWarning):
    """Root of every warning this package issues."""


class EmptyAnswerWarning(WorkersAIWarning):
    """The model returned no answer: no text, refusal or tool call (most often its output budget went to reasoning)."""


class InvalidToolArgumentsWarning(WorkersAIWarning):
    """The model called a tool with arguments that are not a JSON object."""


class DroppedInputWarning(WorkersAIWarning):
    """Part of the conversation was left out of the request because the server would refuse the request with it."""


# Packages whose frames a warning skips to reach the code that made the call: this project's, the frameworks' (whose
# entry points call the adapters, with agents and graphs on top) and the event loop's.
_LIBRARY_PACKAGES = frozenset(
    {
        "cfai",
        "langchain_cfai",
        "llamaindex_cfai",
        "langchain_core",
        "langchain",
        "langgraph",
        "llama_index",
        "llama_index_instrumentation",
        "wrapt",
        "asyncio",
        "concurrent",
        "contextlib",
        "threading",
    }
)


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """Issues a warning attributed to the first frame outside these packages: the caller's own `invoke` or `chat`.

    A fixed `stacklevel` cannot do it: the frames between the warning and the caller depend on the entry point
    (direct, streamed, queued, inside an agent) and on the Python version. Attributed to a library line, every
    warning would also share one location, and Python's default filter shows a warning once per location.
    """
    frame = sys._getframe(1)
    level = 2  # warnings.warn's stacklevel that names `frame`
    while frame.f_back is not None and frame.f_globals.get("__name__", "").partition(".")[0] in _LIBRARY_PACKAGES:
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


class APIConnectionError(WorkersAIError):
    """The request got no HTTP answer: DNS, refused or dropped connection, broken stream."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class ResponseFormatError(WorkersAIError):
    """The server answered something that is not a Responses reply or stream."""


class ResponseFailedError(WorkersAIError):
    """The server answered 200 with `status: "failed"` or an `error` object."""

    def __init__(self, message: str, *, code: str | int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.body = body


class APIStatusError(WorkersAIError):
    """The server answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.body = body
        # Seconds the server asked to wait before trying again (its Retry-After header), if it said.
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    pass


class ContextWindowExceededError(BadRequestError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


# What to do about each kind, appended to the server's own message.
_ADVICE = {
    AuthenticationError: "Check that CLOUDFLARE_API_TOKEN (or api_token=) is a Cloudflare API token with the "
    "Workers AI Read permission.",
    PermissionDeniedError: "Check that the token's permissions include Workers AI for this account.",
    NotFoundError: "Check CLOUDFLARE_ACCOUNT_ID (or account_id=), the base URL and the model name.",
    ContextWindowExceededError: "Shorten the conversation or the retrieved context: the model's window is "
    "128,000 tokens including the output.",
}
_QUOTA_ADVICE = "The daily free allocation is used up; it resets at 00:00 UTC, or move to the paid plan."
_CAPACITY_ADVICE = "Workers AI is out of capacity for this model; the request was retried and may be tried later."

# A context overflow has no documented Cloudflare code, so the 400's text is the only signal (docs/wire.md, Errors).
_CONTEXT_PHRASES = ("context length", "context window", "maximum context", "too many tokens", "prompt is too long")


def _class_for(status_code: int, message: str) -> type[APIStatusError]:
    if status_code in (400, 413, 422):
        lowered = message.lower()
        if any(phrase in lowered for phrase in _CONTEXT_PHRASES):
            return ContextWindowExceededError
        return BadRequestError
    by_status: dict[int, type[APIStatusError]] = {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        429: RateLimitError,
    }
    if status_code in by_status:
        return by_status[status_code]
    return InternalServerError if status_code >= 500 else APIStatusError


def _code_and_message(body: Any) -> tuple[int | None, str | None]:
    """Reads Cloudflare's v4 envelope or OpenAI's error object; (None, None) for anything else."""
    if not isinstance(body, Mapping):
        return None, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
        code = first.get("code")
        return (code if isinstance(code, int) else None), str(first.get("message") or "")
    error = body.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        return (code if isinstance(code, int) else None), str(error.get("message") or "")
    if isinstance(error, str):
        return None, error
    return None, None


def _readable_text(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.lstrip().startswith("<"):
        return "the server answered with an HTML page (a proxy or gateway error)"
    return text[:300] or "the server sent an empty body"


def _spellings(secret: str) -> set[str]:
    """A secret as it may come back: as sent, escaped inside a JSON string, or percent-encoded."""
    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe="")}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Removes secrets from text meant for people (messages, reprs); servers sometimes echo headers back."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            for spelling in _spellings(secret):
                text = text.replace(spelling, "[redacted]")
    return text


class TranslatedErrors:
    """A context manager that turns an HTTP library's timeouts and connection failures into ours, the cause chained.

    Each client keeps one per library it sends with (`cfai.transport` for httpx, `cfai.aiohttp_io` for aiohttp) and
    enters it around every request: a class, since a `@contextmanager` builds a generator on each entry (about 2 µs
    of a call, benchmarks/).
    """

    __slots__ = ("failures", "secrets", "timeouts")

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        timeouts: tuple[type[BaseException], ...],
        failures: tuple[type[BaseException], ...],
    ) -> None:
        self.secrets = secrets
        self.timeouts = timeouts  # checked first: a library's timeout may also be one of its connection errors
        self.failures = failures

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, self.timeouts):
            raise APITimeoutError(
                f"Workers AI did not answer in time ({type(error).__name__}); raise timeout= or try again."
            ) from error
        if isinstance(error, self.failures):
            message = redact(str(error) or type(error).__name__, self.secrets)
            raise APIConnectionError(f"Could not reach Workers AI: {message}") from error


def _redacted_json(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [_redacted_json(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact(str(key), secrets): _redacted_json(item, secrets) for key, item in value.items()}
    return value


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - now()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_from_status(
    status_code: int,
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
) -> APIStatusError:
    """Builds the most specific error for an HTTP error reply."""
    try:
        body: Any = json.loads(raw_body) if raw_body else None
    except ValueError:
        body = None
    code, server_message = _code_and_message(body)
    message = server_message or _readable_text(raw_body)
    cls = _class_for(status_code, message)
    request_id = headers.get("cf-ray") or headers.get("x-request-id")
    parts = [f"Workers AI returned HTTP {status_code}" + (f" (code {code})" if code is not None else "")]
    parts.append(f": {message.rstrip('.')}.")
    if cls is RateLimitError:
        parts.append(" " + (_QUOTA_ADVICE if code == DAILY_QUOTA_CODE else _CAPACITY_ADVICE))
    elif cls in _ADVICE:
        parts.append(" " + _ADVICE[cls])
    if request_id:
        parts.append(f" [cf-ray {request_id}]")
    secrets = tuple(secrets)
    raw_text = raw_body.decode("utf-8", errors="replace")
    # Some proxies echo the request's headers back, raw or escaped; the parsed body must not carry the token either.
    return cls(
        redact("".join(parts), secrets),
        status_code=status_code,
        code=code,
        request_id=request_id,
        body=_redacted_json(body, secrets) if body is not None else redact(raw_text, secrets),
        retry_after=parse_retry_after(headers.get("retry-after")),
    )
