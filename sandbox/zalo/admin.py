"""The emulator's own controls under `/__sandbox/zalo/` (never faulted, never rate limited).

* `PUT /webhooks`: the sender's settings (`target_url`, `oa_secret_key`, `app_id`, retries...);
  `GET /webhooks/deliveries`; `GET /webhooks/sent/{key}`: the body and headers delivered.
* `POST /events`: something happens at the OA — `{"event_name": "user_send_text", "user_id",
  "text"}` (also `user_send_image`, `user_send_sticker`), `follow`, `unfollow`,
  `user_submit_info` (`phone`) — and its event is sent; `POST /redeliver` `{"key"}` sends a
  delivery again unchanged (same `msg_id`).
* `POST /followers` `{"count", "prefix"}`: new followers; `GET /truth`: the generated person,
  e-mail and hidden truth behind each follower, and the interaction behind each message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from sandbox.core.state import ADMIN_PREFIX
from sandbox.zalo import events
from sandbox.zalo.emulator import ZaloEmulator


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_name: str
    user_id: str
    text: str = ""
    phone: str = ""


class NewFollowers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=10_000)
    prefix: str = "Follower"


def build_admin(emu: ZaloEmulator) -> APIRouter:
    router = APIRouter(prefix=f"{ADMIN_PREFIX}/zalo", tags=["zalo sandbox"])

    @router.put("/webhooks")
    def configure(body: dict[str, Any]) -> dict[str, Any]:
        try:
            settings = emu.webhooks.configure(**body)
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        return settings.model_dump(mode="json", exclude={"oa_secret_key"})

    @router.get("/webhooks/deliveries")
    def deliveries() -> dict[str, Any]:
        emu.webhooks.flush(5.0)
        return {"deliveries": [d.to_json() for d in emu.webhooks.deliveries()]}

    @router.get("/webhooks/sent/{key}")
    def sent(key: str) -> dict[str, Any]:
        found = emu.webhooks.sent(key)
        if found is None:
            raise HTTPException(404, f"nothing was sent under {key!r}")
        return {"body": found[0], "headers": found[1]}

    @router.post("/events")
    def happen(body: EventRequest) -> dict[str, Any]:
        name = body.event_name
        try:
            if name.startswith("user_send_"):
                return events.user_sends(
                    emu, body.user_id, name.removeprefix("user_send_"), body.text
                )
            if name in ("follow", "unfollow"):
                return events.follows(emu, body.user_id, name == "follow")
            if name == "user_submit_info":
                return events.submits_info(emu, body.user_id, body.phone)
        except KeyError:
            raise HTTPException(404, f"no follower {body.user_id}") from None
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        raise HTTPException(422, f"unknown event {name!r}")

    @router.post("/redeliver")
    def redeliver(body: dict[str, str]) -> dict[str, Any]:
        if not emu.webhooks.redeliver(body.get("key", "")):
            raise HTTPException(404, "nothing was sent under that key")
        return {"redelivered": body["key"]}

    @router.post("/followers")
    def followers(body: NewFollowers) -> dict[str, Any]:
        return {"user_ids": emu.add_followers(body.count, body.prefix)}

    @router.get("/truth")
    def truth() -> dict[str, Any]:
        with emu.lock:
            messages = {
                m.message_id: m.interaction_id
                for chat in emu.conversations.values()
                for m in chat
                if m.interaction_id
            }
            return {"followers": dict(emu.truth), "messages": messages}

    return router
