"""API key management (admin scope): create, list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from service.api.deps import AdminKey, KeyRepositoryDep
from service.api.listing import CreatedSort, Cursor, Limit, cursor_problems
from service.api.problems import ProblemError
from service.store.keys import KeyInfo, Scope
from service.store.paging import Sort

router = APIRouter(prefix="/v1/keys", tags=["keys"])

KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", description="The key's public id")]


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["crm-workflows"])
    scopes: list[Scope] = Field(min_length=1, examples=[["read"]])


class KeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, info: KeyInfo) -> KeyOut:
        return cls(
            id=info.id,
            name=info.name,
            scopes=info.scopes,
            created_at=info.created_at,
            revoked_at=info.revoked_at,
            last_used_at=info.last_used_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The full key. Shown once; store it now.")


class KeyList(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None = None


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_key(body: KeyCreate, _: AdminKey, keys: KeyRepositoryDep) -> KeyCreated:
    created = keys.create(body.name, body.scopes)
    return KeyCreated(**KeyOut.of(created.info).model_dump(), key=created.key)


@router.get("", summary="List API keys")
def list_keys(
    _: AdminKey,
    keys: KeyRepositoryDep,
    include_revoked: bool = False,
    sort: CreatedSort = CreatedSort.CREATED_AT,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> KeyList:
    with cursor_problems():
        items, next_cursor = keys.page(
            include_revoked=include_revoked, sort=Sort.parse(sort.value), cursor=cursor, limit=limit
        )
    return KeyList(items=[KeyOut.of(k) for k in items], next_cursor=next_cursor)


@router.delete("/{key_id}", summary="Revoke an API key")
def revoke_key(key_id: KeyId, _: AdminKey, keys: KeyRepositoryDep) -> KeyOut:
    info = keys.revoke(key_id)
    if info is None:
        raise ProblemError(404, f"no API key with id {key_id}", kind="not-found")
    return KeyOut.of(info)
