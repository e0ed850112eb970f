"""Which of a case's images need no viewing, for the case's own force: the analyst's list.

An item needs no viewing when another case in the region graded its image (any force), or an
imported known-image hash set lists it (graph/hashsets.py). Each such item is named by its
position in the case summary's `media` (the force system's own list), with who graded it and
the grade. Shown to the owning force only: the grades of another force's images are theirs.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from gateway.graphql.context import Context, Info
from graph.hashsets import HashSets, ItemGrades

SEVERITY = ("A", "B", "C", "NOT_INDECENT")


@strawberry.enum(description="Who graded an image that needs no viewing.")
class GradedBy(Enum):
    REGION = "REGION"  # another case in the region
    HASHSET = "HASHSET"  # an imported known-image hash set


@strawberry.type(description="A media item of the case that needs no viewing.")
class NoViewingItem:
    item: int = strawberry.field(description="its position in the case summary's media list")
    graded_by: GradedBy
    category: str = strawberry.field(
        description="the grade: A, B, C or NOT_INDECENT from the region (the most severe given); "
        "a hash set's own grade otherwise"
    )
    hash_sets: list[str] = strawberry.field(description="the imported sets listing it, by name")


class IsOwnForce(BasePermission):
    message = "only the case's own force sees which of its images need no viewing"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.principal.force) and info.context.principal.force == getattr(
            source, "owner", None
        )


def own_force_only() -> list[FieldExtension]:
    """A caller of another force gets an empty list, not an error: not theirs to read."""
    return [PermissionExtension(permissions=[IsOwnForce()], fail_silently=True)]


def no_viewing(grades: list[ItemGrades]) -> list[NoViewingItem]:
    items = []
    for found in grades:
        sets = sorted({name for name, _ in found.listed})
        if found.elsewhere:
            worst = next(c for c in SEVERITY if c in found.elsewhere)
            items.append(NoViewingItem(item=found.item, graded_by=GradedBy.REGION,
                                       category=worst, hash_sets=sets))  # fmt: skip
        elif found.listed:
            grade = sorted({grade for _, grade in found.listed})[0]
            items.append(NoViewingItem(item=found.item, graded_by=GradedBy.HASHSET,
                                       category=grade, hash_sets=sets))  # fmt: skip
    return items


async def load_no_viewing(context: Context, keys: list[str]) -> list[list[ItemGrades]]:
    found = await HashSets(context.graph).no_viewing(keys)
    return [found.get(key, []) for key in keys]
