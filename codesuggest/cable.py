"""`/-/cable`: GitLab's ActionCable websocket, over which editors follow a chat answer as it is
written (docs/api.md#cable).

The ActionCable protocol (subprotocol `actioncable-v1-json`): the server says `welcome`, then
`ping`s every few seconds; the client sends `subscribe` commands whose `identifier` is a JSON
string naming the channel, here always `GraphqlChannel` with a GraphQL subscription document and
its variables. Each subscription is run against the GraphQL schema (chat/graphql.py): a
document that does not parse, validate or authorize is answered `reject_subscription`, one that
holds `confirm_subscription`, and then each result as `{"result": …, "more": true}`.

The caller is whoever the `Authorization: Bearer` token of the handshake names, checked as the
API checks it; a handshake without a valid token is refused (403). Only a token can
authenticate here, never a cookie, so a page elsewhere cannot open a socket in a signed-in
admin's name: the Origin needs no check.
"""

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import HttpRequest
from django.urls import path

from chat import graphql as chat
from codesuggest import observe
from codesuggest.api.errors import ApiError
from codesuggest.api.graphql import Context, Schema, result_body
from codesuggest.api.scopes import AI_SCOPES
from codesuggest.api.throttling import client_address
from codesuggest.graphql import schema
from projects.authentication import Credential, authenticate_personal_access_token
from projects.models import User

logger = logging.getLogger(__name__)

CABLE_PATH = "-/cable"
SUBPROTOCOL = "actioncable-v1-json"
# ActionCable's own interval; its clients call a connection stale after about two missed pings.
PING_SECONDS = 3.0


# The HTTP endpoint's schema has no subscription type (a subscription needs a socket): the same
# Query, with the subscriptions the apps contribute.
SCHEMA = Schema(query=schema.query, subscription=chat.Subscription)


class CableConsumer(AsyncJsonWebsocketConsumer):
    """One editor's socket: its subscriptions run as tasks, cancelled when it goes away."""

    user: User
    credential: Credential

    async def connect(self) -> None:
        self.opened = time.perf_counter()
        caller = await _authenticate(self.scope)
        if caller is None or SUBPROTOCOL not in self.scope.get("subprotocols", []):
            await self.close()  # before accepting: the handshake is answered 403
            self._log_session(status=403)
            return
        self.user, self.credential = caller
        self.subscriptions: dict[str, asyncio.Task[None]] = {}
        await self.accept(SUBPROTOCOL)
        await self.send_json({"type": "welcome"})
        self.pinger = asyncio.create_task(self._ping())

    async def disconnect(self, code: int) -> None:
        for task in [*getattr(self, "subscriptions", {}).values(), getattr(self, "pinger", None)]:
            if task is not None:
                task.cancel()
        if hasattr(self, "user"):
            self._log_session(status=101, close_code=code)

    def _log_session(self, *, status: int, **details: object) -> None:
        """A socket's line in the request log, as the HTTP requests have theirs: the server's
        access log has none for websockets."""
        observe.log_request(
            method="GET",
            path=self.scope["path"],
            endpoint=CABLE_PATH,
            status=status,
            seconds=time.perf_counter() - self.opened,
            remote_ip=_client_address(self.scope),
            **details,
        )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("identifier"), str):
            return  # not ActionCable; its servers ignore such frames too
        command, identifier = content.get("command"), content["identifier"]
        if command == "subscribe" and identifier not in self.subscriptions:
            task = asyncio.create_task(self._subscription(identifier))
            self.subscriptions[identifier] = task
        elif command == "unsubscribe" and identifier in self.subscriptions:
            self.subscriptions.pop(identifier).cancel()

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await self.send_json({"type": "ping", "message": int(time.time())})

    async def _subscription(self, identifier: str) -> None:
        params = _graphql_params(identifier)
        if params is None:
            await self._reply(identifier, type="reject_subscription")
            return
        results = await SCHEMA.subscribe(
            params["query"],
            variable_values=params["variables"],
            context_value=Context(user=self.user, credential=self.credential),
            operation_name=params["operationName"],
        )
        async with contextlib.aclosing(results):
            # The first result says whether the subscription holds (see chat/graphql.py).
            first = await anext(results, None)
            if first is None or first.errors:
                await self._reply(identifier, type="reject_subscription")
                self.subscriptions.pop(identifier, None)
                return
            await self._reply(identifier, type="confirm_subscription")
            async for result in results:
                await self._reply(identifier, message={"result": result_body(result), "more": True})

    async def _reply(self, identifier: str, **fields: Any) -> None:
        await self.send_json({"identifier": identifier, **fields})


def _graphql_params(identifier: str) -> dict[str, Any] | None:
    """query, variables and operationName of a GraphqlChannel identifier; None for another
    channel or a malformed one. `variables` may be an object or an object JSON-encoded (GitLab's
    language server sends a string), empty or missing."""
    try:
        params = json.loads(identifier)
    except ValueError:
        return None
    if not isinstance(params, dict) or params.get("channel") != "GraphqlChannel":
        return None
    query, variables = params.get("query"), params.get("variables") or {}
    if isinstance(variables, str):
        try:
            variables = json.loads(variables)
        except ValueError:
            return None
    operation_name = params.get("operationName") or None
    if not isinstance(query, str) or not isinstance(variables, dict):
        return None
    if not isinstance(operation_name, str | None):
        return None
    return {"query": query, "variables": variables, "operationName": operation_name}


@database_sync_to_async
def _authenticate(scope: dict[str, Any]) -> tuple[User, Credential] | None:
    """The caller named by the handshake's `Authorization: Bearer` personal access token."""
    headers = dict(scope.get("headers", []))
    scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    try:
        return authenticate_personal_access_token(value.strip(), AI_SCOPES)
    except ApiError:
        return None


def _client_address(scope: dict[str, Any]) -> str:
    """The caller's address as the API's log has it (behind the TLS proxy, the forwarded one)."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = (scope.get("client") or ("",))[0]
    forwarded = dict(scope.get("headers", [])).get(b"x-forwarded-for")
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded.decode("latin-1")
    return client_address(request)


websocket_urlpatterns = [path(CABLE_PATH, CableConsumer.as_asgi())]
