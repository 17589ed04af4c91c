"""Forwarding to an upstream dagster-webserver: HTTP with httpx (streamed both ways, so
large bundles and log downloads are not buffered twice) and the GraphQL websocket with
the websockets client, one message at a time so the gateway can judge each operation.

The client's credentials (Authorization, Cookie) never reach the upstream: it is a
private service that trusts whoever the gateway lets through.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio
import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

_DROPPED_REQUEST = {
    "host", "connection", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
    "authorization", "cookie", "content-length",
}  # fmt: skip
_DROPPED_RESPONSE = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "set-cookie"}
_WS_DROPPED = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"}

Inspector = Callable[[dict], Awaitable[tuple[dict | None, dict | None]]]
"""Judges one client websocket message: (message to forward or None, reply to the client or None)."""


class Upstream:
    """One upstream webserver (the full one, or the ``--read-only`` one for viewers)."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.ws_base = "ws" + self.base_url.removeprefix("http")
        self.client = httpx.AsyncClient(
            base_url=self.base_url, transport=transport, timeout=httpx.Timeout(300, connect=10)
        )

    async def answers(self) -> bool:
        """The webserver is up: its /server_info answers 200 within 5 s."""
        try:
            response = await self.client.get("/server_info", timeout=5)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self.client.aclose()

    async def forward(self, request: Request, body: bytes) -> StreamingResponse:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROPPED_REQUEST]
        outgoing = self.client.build_request(
            request.method, request.url.path, params=request.url.query, headers=headers, content=body
        )
        response = await self.client.send(outgoing, stream=True)
        proxied = StreamingResponse(
            response.aiter_raw(), status_code=response.status_code, background=BackgroundTask(response.aclose)
        )
        proxied.raw_headers = [
            (k.lower().encode(), v.encode())
            for k, v in response.headers.multi_items()
            if k.lower() not in _DROPPED_RESPONSE
        ]
        return proxied

    async def websocket(self, websocket: WebSocket, inspect: Inspector) -> None:
        """Relay a websocket, passing every client message through ``inspect`` first."""
        url = self.ws_base + websocket.url.path + (f"?{websocket.url.query}" if websocket.url.query else "")
        protocols = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        headers = [
            (k, v)
            for k, v in websocket.headers.items()
            if k.lower() not in _DROPPED_REQUEST | _WS_DROPPED and not k.lower().startswith("sec-websocket")
        ]
        async with connect(url, subprotocols=protocols or None, additional_headers=headers) as upstream:  # type: ignore[arg-type]
            await websocket.accept(subprotocol=upstream.subprotocol)

            async def client_to_upstream() -> None:
                try:
                    while True:
                        text = await websocket.receive_text()
                        try:
                            message = json.loads(text)
                        except json.JSONDecodeError:
                            await websocket.close(code=1003)
                            return
                        forward, reply = await inspect(message) if isinstance(message, dict) else (None, None)
                        if reply is not None:
                            await websocket.send_text(json.dumps(reply))
                        if forward is not None:
                            await upstream.send(json.dumps(forward))
                except WebSocketDisconnect:
                    pass

            async def upstream_to_client() -> None:
                try:
                    async for data in upstream:
                        await websocket.send_text(data if isinstance(data, str) else data.decode())
                except ConnectionClosed:
                    pass

            async with anyio.create_task_group() as group:

                async def run(pump: Callable[[], Awaitable[None]]) -> None:
                    await pump()
                    group.cancel_scope.cancel()

                group.start_soon(run, client_to_upstream)
                group.start_soon(run, upstream_to_client)
        try:
            await websocket.close()
        except RuntimeError:
            pass  # already closed by the client
