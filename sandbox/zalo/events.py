"""What happens at the OA, as state changes and the events Zalo sends about them.

Each function changes the emulator (a message in the conversation, a follow, shared info) and
queues the event the webhook sender delivers (when a target is set). Shapes: docs/zalo.md
"Webhooks" (ids as strings; `timestamp` is added by the sender).
"""

from __future__ import annotations

from typing import Any

from sandbox.zalo.emulator import Message, ZaloEmulator, derived_id

# user_send_<kind> -> the message type the conversation API lists it with.
USER_MESSAGE_TYPES = {"text": "text", "image": "photo", "sticker": "sticker"}


def _by_app(emu: ZaloEmulator, user_id: str) -> str:
    return derived_id(f"{emu.config.app_id}:{user_id}")


def user_sends(emu: ZaloEmulator, user_id: str, kind: str, text: str = "") -> dict[str, Any]:
    """The user writes to the OA (`user_send_text`, `_image`, `_sticker`)."""
    if kind not in USER_MESSAGE_TYPES:
        raise ValueError(f"unknown message kind {kind!r}")
    body = text if kind == "text" else ""
    message = emu.user_sends(user_id, USER_MESSAGE_TYPES[kind], body)
    content: dict[str, Any] = {"msg_id": message.message_id}
    if kind == "text":
        content["text"] = text
    else:
        url = f"https://sandbox.zalo.example/{kind}/{message.message_id}.png"
        payload = {"thumbnail": url, "url": url} if kind == "image" else {"id": "1", "url": url}
        content["attachments"] = [{"type": kind, "payload": payload}]
    event = {
        "user_id_by_app": _by_app(emu, user_id),
        "event_name": f"user_send_{kind}",
        "sender": {"id": user_id},
        "recipient": {"id": emu.config.oa_id},
        "message": content,
    }
    emu.webhooks.send(user_id, event, message.message_id)
    return {"msg_id": message.message_id, "event": event}


def oa_sent(emu: ZaloEmulator, message: Message) -> None:
    """The OA's own message (`oa_send_text`), which receivers see too."""
    event = {
        "user_id_by_app": _by_app(emu, message.user_id),
        "event_name": "oa_send_text",
        "sender": {"id": emu.config.oa_id},
        "recipient": {"id": message.user_id},
        "message": {"text": message.message, "msg_id": message.message_id},
    }
    emu.webhooks.send(message.user_id, event, message.message_id)


def follows(emu: ZaloEmulator, user_id: str, following: bool) -> dict[str, Any]:
    """`follow` / `unfollow` (no msg_id: the key is the event name, user and time)."""
    follower = emu.set_following(user_id, following)
    name = "follow" if following else "unfollow"
    event = {
        "oa_id": emu.config.oa_id,
        "user_id_by_app": _by_app(emu, user_id),
        "event_name": name,
        "source": "oa_profile",
        "follower": {"id": follower.user_id},
    }
    key = f"{name}:{user_id}:{follower.last_interaction_at.isoformat()}"
    emu.webhooks.send(user_id, event, key)
    return {"key": key, "event": event}


def submits_info(emu: ZaloEmulator, user_id: str, phone: str) -> dict[str, Any]:
    """`user_submit_info`: the user shares a phone number with the OA."""
    with emu.lock:
        follower = emu.followers[user_id]
        follower.phone = phone
        follower.last_interaction_at = emu.now()
        name = follower.display_name
    event = {
        "user_id_by_app": _by_app(emu, user_id),
        "event_name": "user_submit_info",
        "sender": {"id": user_id},
        "recipient": {"id": emu.config.oa_id},
        "info": {"name": name, "phone": phone, "address": "", "city": "", "district": ""},
    }
    key = f"user_submit_info:{user_id}:{phone}"
    emu.webhooks.send(user_id, event, key)
    return {"key": key, "event": event}
