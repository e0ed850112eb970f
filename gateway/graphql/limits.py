"""Query cost: refused at validation, before any resolver touches the graph.

Each field costs 1, times the page sizes of the lists it sits in (`first`, or the maximum page
when `first` is a variable or absent on a paged field). Depth, aliases and tokens are limited by
Strawberry's own extensions; this adds the bound that those cannot see: wide pages nested in
wide pages.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


def _page(node: FieldNode, max_page: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            return int(value.value) if isinstance(value, IntValueNode) else max_page
    return 1


def selection_cost(
    selections: SelectionSetNode | None,
    context: ValidationContext,
    max_page: int,
    seen: frozenset[str] = frozenset(),
) -> int:
    if selections is None:
        return 0
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            page = _page(selection, max_page)
            total += 1 + page * selection_cost(selection.selection_set, context, max_page, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += selection_cost(selection.selection_set, context, max_page, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:  # cycles are another rule's error
                total += selection_cost(fragment.selection_set, context, max_page, seen | {name})
    return total


def cost_limit(max_cost: int, max_page: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = selection_cost(node.selection_set, self.context, max_page)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query costs {cost}, more than the limit of {max_cost}",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY"},
                    )
                )

    return CostLimit
