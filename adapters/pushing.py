"""What both writers share: the push mappings of a connection and grouping updates by object."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from adapters.mapping import Mapping, MappingSet
from service.ports import CrmConfigError, CrmRejectedError, FieldUpdate


class PushMappings:
    """The push mappings of one connection (one per CRM object that gets our fields)."""

    def __init__(self, crm: str, label: str, connection: str, mappings: MappingSet) -> None:
        self.label = label
        self.connection = connection
        self._by_object = {m.object: m for m in mappings.for_crm(crm, "push")}
        self.objects = frozenset(self._by_object)

    def __iter__(self) -> Iterator[Mapping]:
        return iter(self._by_object.values())

    def get(self, crm_object: str) -> Mapping:
        mapping = self._by_object.get(crm_object)
        if mapping is None:
            raise CrmConfigError(
                f"no push mapping for {self.label} {crm_object}", connection=self.connection
            )
        return mapping

    def group(
        self, updates: Sequence[FieldUpdate]
    ) -> tuple[dict[str, list[FieldUpdate]], list[CrmRejectedError]]:
        """Updates by CRM object; those without a CRM id are refused (never created blindly)."""
        by_object: dict[str, list[FieldUpdate]] = {}
        refused: list[CrmRejectedError] = []
        for update in updates:
            if update.crm_id is None:
                refused.append(
                    CrmRejectedError(
                        f"{update.external_id} is not linked to a {self.label} record",
                        record_id=update.external_id,
                        code="NOT_LINKED",
                        connection=self.connection,
                    )
                )
                continue
            by_object.setdefault(update.crm_object, []).append(update)
        return by_object, refused
