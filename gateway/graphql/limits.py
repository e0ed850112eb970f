"""Query cost: refused at validation, before any resolver touches the graph.

Each field costs 1, times the page sizes of the lists it sits in. A page is the field's `first`:
a literal when it is a whole number of at least 0; the field's own default when it is absent;
the items a list without `first` declares (`counted_as`, e.g. `holders`, whose answer no page
bounds); the maximum page when it is a variable or anything else (a negative number is refused
by the resolver, but only if the resolver runs: counted as the worst case, it can never lower
the cost). Fields under `@skip` or `@include` count as if they ran, since the directive's argument
may be a variable the cost rule does not see. Depth, aliases and tokens are limited by
Strawberry's own extensions; this adds the bound that those cannot see: wide pages nested in
wide pages.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    is_object_type,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLObjectType

PAGE_ARGUMENT = "first"
# Field metadata: a list without a `first` argument counts as a page of this many items.
COUNTED_ITEMS = "crossforce.cost.items"


def counted_as(items: int) -> dict[str, int]:
    """Metadata for a list field that takes no `first`: the cost rule counts it as `items`."""
    return {COUNTED_ITEMS: items}


def _fields_of(parent: GraphQLNamedType | None) -> dict[str, Any]:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return dict(parent.fields)
    return {}


def _page(node: FieldNode, definition: Any, max_page: int) -> int:
    """How many times the field's selection counts: its page size, never below zero."""
    for argument in node.arguments or ():
        if argument.name.value == PAGE_ARGUMENT:
            value = argument.value
            if isinstance(value, IntValueNode) and int(value.value) >= 0:
                return int(value.value)
            return max_page
    arguments = getattr(definition, "args", {}) or {}
    if PAGE_ARGUMENT not in arguments:
        return _declared_items(definition)
    default = arguments[PAGE_ARGUMENT].default_value
    return default if isinstance(default, int) and default >= 0 else max_page


def _declared_items(definition: Any) -> int:
    extensions = getattr(definition, "extensions", None) or {}
    metadata = getattr(extensions.get("strawberry-definition"), "metadata", None) or {}
    items = metadata.get(COUNTED_ITEMS, 1)
    return items if isinstance(items, int) and items >= 0 else 1


class _Cost:
    def __init__(self, context: ValidationContext, max_page: int) -> None:
        self.context = context
        self.schema: GraphQLSchema = context.schema
        self.max_page = max_page

    def of(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        seen: frozenset[str] = frozenset(),
    ) -> int:
        if selections is None:
            return 0
        total = 0
        fields = _fields_of(parent)
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                definition = fields.get(selection.name.value)
                child = get_named_type(definition.type) if definition is not None else None
                page = _page(selection, definition, self.max_page)
                total += 1 + page * self.of(selection.selection_set, child, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.of(selection.selection_set, inner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:  # cycles are another rule's error
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.of(fragment.selection_set, inner, seen | {name})
        return total


def operation_cost(node: OperationDefinitionNode, context: ValidationContext, max_page: int) -> int:
    root = context.schema.get_root_type(node.operation)
    return _Cost(context, max_page).of(node.selection_set, root if is_object_type(root) else None)


def cost_limit(max_cost: int, max_page: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = operation_cost(node, self.context, max_page)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query costs {cost}, more than the limit of {max_cost}",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY"},
                    )
                )

    return CostLimit
