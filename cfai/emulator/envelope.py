"""Cloudflare's v4 API envelope: success and error bodies, error codes, and the error the emulator raises.

Codes and messages follow Cloudflare's Workers AI and API error tables (see docs/wire.md, "Errors"). Every module of the
emulator reports a client-visible failure by raising `CloudflareError`; the app turns it into the envelope once.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

AUTHENTICATION_ERROR = 10000
METHOD_NOT_ALLOWED = 7001
COULD_NOT_ROUTE = 7003
SERVER_ERROR = 3001  # undocumented for 5xx replies; Cloudflare's older error table called 3001 "Server error"
REQUEST_TOO_LARGE = 3006
TIMEOUT = 3007
DAILY_LIMIT = 3036
OUT_OF_CAPACITY = 3040
BAD_INPUT = 5006
NO_SUCH_MODEL = 5007
FORCED_TOOL_BUDGET = 8006

CAPACITY_MESSAGE = "Capacity temporarily exceeded, please try again."
DAILY_LIMIT_MESSAGE = (
    "You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's Workers Paid "
    "plan if you would like to continue usage."
)


class CloudflareError(Exception):
    """A request the emulator refuses, as Cloudflare would: HTTP status plus one `{code, message}` error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_input(detail: str) -> CloudflareError:
    """400/5006, worded like Cloudflare's schema validator (`AiError: Bad input: ...`)."""
    return CloudflareError(400, BAD_INPUT, f"AiError: Bad input: {detail}")


def success(result: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}


def failure(code: int, message: str) -> dict[str, Any]:
    return {"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []}


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is, like Cloudflare's replies."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def new_ray_id() -> str:
    """A `cf-ray` value: 16 hex digits and a colo code (ours says "EMU" so nobody mistakes it for production)."""
    return f"{secrets.token_hex(8)}-EMU"


BAD_GATEWAY_HTML = """<!DOCTYPE html>
<html lang="en-US">
<head><title>api.cloudflare.com | 502: Bad gateway</title></head>
<body>
<div id="cf-error-details">
  <h1>Bad gateway <span>Error code 502</span></h1>
  <p>The web server reported a bad gateway error.</p>
  <p>Cloudflare Ray ID: <strong>{ray}</strong></p>
</div>
</body>
</html>
"""
