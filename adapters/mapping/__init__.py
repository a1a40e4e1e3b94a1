"""CRM field mappings: YAML files validated against `shipped/schema.json`, and value coercion."""

from adapters.mapping.coerce import CoercionError, coerce
from adapters.mapping.loader import FieldMap, Mapping, MappingError, MappingSet, load_mappings

__all__ = [
    "CoercionError",
    "FieldMap",
    "Mapping",
    "MappingError",
    "MappingSet",
    "coerce",
    "load_mappings",
]
