"""REST API v2.0 `GET /new/v2.0/conversations/{sessionId}` (also without `/new`): one session's messages,
shaped as the documented `ConversationMessage` (cognigy-api.md section 3), oldest first.

Whether real items carry an id is not documented; these carry `_id`, as Cognigy's REST resources do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from simulator.problems import RESOURCE_NOT_FOUND, problem
from simulator.state import STATE

CONVERSATION_TTL = timedelta(days=30)  # Cognigy's default transcript retention
MESSAGE_FIELDS = (
    "projectId", "projectName", "inputId", "sessionId", "contactId", "organisation", "inputText", "inputData",
    "type", "source", "flowName", "channel", "timestamp", "inHandoverRequest", "inHandoverConversation",
    "outputId", "endpointUrlToken", "endpointName", "localeReferenceId", "snapshotId", "snapshotName", "rating",
    "ratingComment",
)


async def conversation(request: web.Request) -> web.Response:
    session_id = request.match_info["sessionId"]
    records = request.app[STATE].visible_session(session_id)
    if not records:
        return problem(404, RESOURCE_NOT_FOUND, f"conversation {session_id} not found", request.path)
    items = [_message(record) for record in records]
    return web.json_response({"items": items, "total": len(items)})


def _message(record: dict[str, Any]) -> dict[str, Any]:
    expires = datetime.fromisoformat(record["timestamp"]) + CONVERSATION_TTL
    return {
        "_id": record["id"],
        **{name: record[name] for name in MESSAGE_FIELDS},
        "flowReferenceId": record["flowParentId"],
        "localeName": "en",
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z",
    }
