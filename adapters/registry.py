"""The one list of connectors: `kind` -> `Connector` (adapters/connector.py).

Adding a connector is its package (`adapters/<kind>/`), its mappings
(`adapters/mapping/shipped/<kind>/`), its sandbox (`sandbox/<kind>/`) and one entry below (its
import and its line in `CONNECTORS`); nothing else in the application names it
(tests/unit/test_connector_registry.py checks that). Importing this module loads each
connector's declaration, settings model and webhook parsing, never an SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, TypeAdapter

from adapters.connector import Connector
from adapters.hubspot.connector import CONNECTOR as HUBSPOT
from adapters.mapping import MappingError, MappingSet
from adapters.qualtrics.connector import CONNECTOR as QUALTRICS
from adapters.salesforce.connector import CONNECTOR as SALESFORCE
from adapters.settings import ConnectionSettings
from adapters.zalo.connector import CONNECTOR as ZALO
from adapters.zendesk.connector import CONNECTOR as ZENDESK

CONNECTORS: tuple[Connector[Any], ...] = (
    SALESFORCE,
    HUBSPOT,
    ZALO,
    QUALTRICS,
    ZENDESK,
)

_BY_KIND: dict[str, Connector[Any]] = {c.kind: c for c in CONNECTORS}
if len(_BY_KIND) != len(CONNECTORS):
    raise RuntimeError("two registered connectors share a kind")


class UnknownKindError(LookupError):
    """No connector of this kind is registered."""


def kinds() -> tuple[str, ...]:
    """Every registered kind, in registry order."""
    return tuple(_BY_KIND)


def connector(kind: str) -> Connector[Any]:
    """The connector of `kind`; `UnknownKindError` when none is registered."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        known = ", ".join(kinds())
        raise UnknownKindError(f"no connector of kind {kind!r} (known: {known})") from None


def _settings_union() -> Any:
    models = tuple(c.settings for c in CONNECTORS)
    if len(models) == 1:  # a union of one is the model itself (no discriminator to apply)
        return models[0]
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007


if TYPE_CHECKING:
    # To the type checker every connection is the common base: the service reads only the
    # fields every connector shares; each connector narrows to its own model in its `build`.
    AnyConnectionSettings = ConnectionSettings
else:
    # At run time, the union of every connector's model, told apart by `kind`.
    AnyConnectionSettings = _settings_union()

_ADAPTER: TypeAdapter[ConnectionSettings] = TypeAdapter(AnyConnectionSettings)


def connection_settings(
    values: Mapping[str, Any] | None = None, **fields: Any
) -> ConnectionSettings:
    """One connection's settings model, chosen by `kind` (ValidationError on bad values)."""
    return _ADAPTER.validate_python({**(values or {}), **fields})


def check_mappings(mappings: MappingSet) -> None:
    """MappingError (file: problem) for a mapping no registered connector can use: an unknown
    `crm`, or a `where` for a connector whose pull takes no condition."""
    for mapping in mappings.mappings:
        if mapping.crm not in _BY_KIND:
            raise MappingError(
                f"{mapping.source}:1: crm: {mapping.crm!r} is not a registered connector "
                f"(known: {', '.join(kinds())})"
            )
        found = _BY_KIND[mapping.crm]
        if mapping.where is not None and not found.pull_where:
            raise MappingError(f"{mapping.source}:1: where: {found.label} pulls take no condition")
