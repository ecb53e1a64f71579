"""httpx requests as `httpx.Client.build_request` makes them, without redoing its header work on every call.

A client sends the same headers to the same few routes over and over: they are merged and ordered once per route,
and again only when the httpx client's own headers change. `tests/cfai/test_transport.py` compares every request
with the one httpx builds itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class _PreparedHeaders:
    """A request's headers but its Content-Length, and the client headers they were made from.

    `sized`: the headers already say how the body is sent, so httpx must place the body's own headers itself.
    """

    client_headers: list[tuple[bytes, bytes]]
    headers: httpx.Headers
    sized: bool


class RequestBuilder:
    """POST requests carrying `headers` (ours, over the httpx client's defaults) and `timeout`."""

    def __init__(self, headers: httpx.Headers, timeout: httpx.Timeout) -> None:
        self.headers = headers
        self.timeout = timeout
        self.extensions = {"timeout": timeout.as_dict()}
        self._prepared: dict[str, _PreparedHeaders] = {}  # by route: hashing a URL would cost a call each time

    def build(
        self, client: httpx.Client | httpx.AsyncClient, route: str, url: httpx.URL, content: bytes
    ) -> httpx.Request:
        """The request that POSTs `content` to `url`, the address of `route` (a path, or a whole URL)."""
        if client.cookies or client.params:
            # httpx's own merge covers what a caller's client adds beyond headers.
            return client.build_request("POST", url, content=content, headers=self.headers, timeout=self.timeout)
        prepared = self._headers_for(client, route, url)
        if prepared.sized:
            return httpx.Request("POST", url, content=content, headers=prepared.headers, extensions=self.extensions)
        # The request `content=` builds, without deriving its headers again: ours already hold the Host that httpx
        # puts first, and Content-Length goes last, as httpx puts it.
        request = httpx.Request(
            "POST", url, headers=prepared.headers, stream=httpx.ByteStream(content), extensions=self.extensions
        )
        request.headers["Content-Length"] = str(len(content))
        request.read()  # as `content=` does: the body stays readable as `request.content`
        return request

    def _headers_for(self, client: httpx.Client | httpx.AsyncClient, route: str, url: httpx.URL) -> _PreparedHeaders:
        """Host (unless given), then the client's own default headers overlaid with ours."""
        current = client.headers.raw
        cached = self._prepared.get(route)
        if cached is None or cached.client_headers != current:
            merged = httpx.Headers(client.headers)
            merged.update(self.headers)
            if "host" not in merged and url.host:
                merged = httpx.Headers([(b"Host", url.netloc), *merged.raw])
            sized = "content-length" in merged or "transfer-encoding" in merged
            cached = self._prepared[route] = _PreparedHeaders(current, merged, sized)
        return cached
