"""Tagged unions: a union of model classes told apart by one wire field (``status``,
``type``), with a fallback class for values the SDK does not know yet.

Model modules declare the union once (:func:`tagged_union`); the converter has one hook
for every declared union (``_converter._make_tagged_union_hook``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import attrs

__all__ = ["TAGGED_UNIONS", "TaggedUnion", "tagged_union"]


@attrs.frozen
class TaggedUnion:
    """How to pick a variant: the wire ``field``, its known values, and the ``fallback``
    (which must have a ``raw: dict[str, Any]`` field; it receives the whole object)."""

    field: str
    variants: Mapping[str, type]
    fallback: type


#: The declared unions, keyed by the set of their member classes.
TAGGED_UNIONS: dict[frozenset[Any], TaggedUnion] = {}


def tagged_union(union: Any, field: str, variants: Mapping[str, type], fallback: type) -> None:
    """Declare ``union`` (the type alias models use) as dispatched on ``field``."""
    assert "raw" in attrs.fields_dict(fallback), fallback
    TAGGED_UNIONS[frozenset(get_args(union))] = TaggedUnion(field, dict(variants), fallback)
