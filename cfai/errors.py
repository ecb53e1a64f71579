"""The exception tree, and the one translation of a failed HTTP reply into it.

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

Cloudflare answers with its v4 envelope (`{"success": false, "errors": [{"code", "message"}]}`); OpenAI-compatible
servers answer `{"error": {...}}`; proxies answer HTML. All three become the same typed error here, and only here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContextWindowExceededError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseFailedError",
    "ResponseFormatError",
    "WorkersAIError",
    "error_from_status",
    "redact",
]

DAILY_QUOTA_CODE = 3036


class WorkersAIError(Exception):
    """Root of every error this package raises."""


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
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.body = body
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

# A context overflow has no documented Cloudflare code, so the 400's text is the only signal (WIRE.md, Errors).
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


def redact(text: str, secrets: Iterable[str]) -> str:
    """Removes secrets from text meant for people (messages, reprs); servers sometimes echo headers back."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


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
    if body is not None and redact(raw_text, secrets) != raw_text:
        # Some proxies echo the request's headers back; the parsed body must not carry the token either.
        body = json.loads(redact(raw_text, secrets))
    return cls(
        redact("".join(parts), secrets),
        status_code=status_code,
        code=code,
        request_id=request_id,
        body=body if body is not None else redact(raw_text, secrets),
        retry_after=headers.get("retry-after"),
    )
