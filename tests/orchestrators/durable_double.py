"""A Durable client double: the SDK's real client over an in-memory task hub.

The Durable Functions host cannot run offline, so the HTTP functions are tested against the
SDK's own ``DurableOrchestrationClient`` (real URL building, real status parsing, real
``create_check_status_response``) whose two transport functions are answered by
:class:`FakeTaskHub`, which speaks the extension's RPC contract: the same paths, status
codes and JSON shapes (``runtimeStatus``, ``customStatus``, ``createdTime``...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import azure.durable_functions as df

RPC_BASE = "http://127.0.0.1:17071/durabletask/"
HOST = "https://leadfwd-migration.azurewebsites.net"
SYSTEM_KEY = "sYsTeMkEy"
_WEBHOOK = f"{HOST}/runtime/webhooks/durabletask/instances/INSTANCEID"
_Q = f"taskHub=LeadfwdMigration&connection=Storage&code={SYSTEM_KEY}"

BINDING = {
    "taskHubName": "LeadfwdMigration",
    "creationUrls": {
        "createNewInstancePostUri": f"{HOST}/runtime/webhooks/durabletask/orchestrators/"
        f"{{functionName}}[/{{instanceId}}]?code={SYSTEM_KEY}",
    },
    "managementUrls": {
        "id": "INSTANCEID",
        "statusQueryGetUri": f"{_WEBHOOK}?{_Q}",
        "sendEventPostUri": f"{_WEBHOOK}/raiseEvent/{{eventName}}?{_Q}",
        "terminatePostUri": f"{_WEBHOOK}/terminate?reason={{text}}&{_Q}",
        "rewindPostUri": f"{_WEBHOOK}/rewind?reason={{text}}&{_Q}",
        "purgeHistoryDeleteUri": f"{_WEBHOOK}?{_Q}",
    },
    "rpcBaseUrl": RPC_BASE,
}

_HTTP_FOR_STATUS = {
    "Completed": 200,
    "Running": 202,
    "Pending": 202,
    "ContinuedAsNew": 202,
    "Suspended": 202,
    "Failed": 500,
    "Terminated": 400,
    "Canceled": 400,
}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeTaskHub:
    """In-memory instances, plus a record of every start and event the client sent."""

    orchestrators: frozenset[str] = frozenset({"migrate", "rollback", "delta"})
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    starts: list[tuple[str, str, Any]] = field(default_factory=list)
    events: list[tuple[str, str, Any]] = field(default_factory=list)

    def client(self) -> Any:
        """The SDK's real client, wired to this hub instead of the host's RPC endpoint."""
        client = df.DurableOrchestrationClient(json.dumps(BINDING))
        client._post_async_request = self.post
        client._get_async_request = self.get
        return client

    def put(
        self,
        instance_id: str,
        status: str,
        *,
        name: str = "migrate",
        custom_status: Any = None,
        output: Any = None,
    ) -> None:
        """Make an instance exist in ``status`` (what the orchestrator would have done)."""
        now = _stamp()
        self.instances[instance_id] = {
            "name": name,
            "instanceId": instance_id,
            "runtimeStatus": status,
            "input": None,
            "customStatus": custom_status,
            "output": output,
            "createdTime": self.instances.get(instance_id, {}).get("createdTime", now),
            "lastUpdatedTime": now,
        }

    async def post(
        self,
        url: str,
        data: Any = None,
        trace_parent: str | None = None,
        trace_state: str | None = None,
        function_invocation_id: str | None = None,
    ) -> list[Any]:
        path = url.removeprefix(RPC_BASE).split("?")[0].split("/")
        payload = json.loads(data) if isinstance(data, str) else data
        if path[0] == "orchestrators":
            name, instance_id = path[1], path[2]
            if name not in self.orchestrators:
                return [400, {"ExceptionMessage": f"The function '{name}' doesn't exist."}]
            self.starts.append((name, instance_id, payload))
            self.put(instance_id, "Pending", name=name)
            self.instances[instance_id]["input"] = payload
            return [202, {"id": instance_id}]
        if path[0] == "instances" and path[2] == "raiseEvent":
            instance_id, event = path[1], path[3]
            inst = self.instances.get(instance_id)
            if inst is None:
                return [404, None]
            if inst["runtimeStatus"] not in {"Running", "Pending", "Suspended"}:
                return [410, None]
            self.events.append((instance_id, event, payload))
            return [202, None]
        raise AssertionError(f"unexpected POST {url}")

    async def get(self, url: str, function_invocation_id: str | None = None) -> list[Any]:
        parts = urlsplit(url)
        path = parts.path.removeprefix(urlsplit(RPC_BASE).path).split("/")
        if path[0] != "instances":
            raise AssertionError(f"unexpected GET {url}")
        instance_id = path[1] if len(path) > 1 else ""
        if instance_id:
            inst = self.instances.get(instance_id)
            if inst is None:
                return [404, ""]
            return [_HTTP_FOR_STATUS[inst["runtimeStatus"]], dict(inst)]
        query = parse_qs(parts.query)
        statuses = set(query.get("runtimeStatus", [""])[0].split(",")) - {""}
        prefix = query.get("instanceIdPrefix", [""])[0]
        found = [
            dict(i)
            for i in self.instances.values()
            if i["instanceId"].startswith(prefix)
            and (not statuses or i["runtimeStatus"] in statuses)
        ]
        return [200, found]
