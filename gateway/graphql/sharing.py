"""The sharing agreement, enforced in one place for every GraphQL type that names a force's case.

Two decisions of `policies.sharing`, applied by one schema extension, `SharingGuard`:

- **Records.** A type that names one force's case or a person in it (`NamesCase`: a case, a link,
  a queue entry, a regrade alert, a victim of a group, a node of the explorer, a change-feed
  event) is shown only as far as `SharingPolicy.record_view` lets the reader know that case: the
  guard drops from a list, or nulls, every value the reader may not know, whichever resolver
  produced it. Resolvers that page or count (the priority queue, victim groups, the explorer)
  ask the same decision first, through `Context.knows_case`, so a page is not left short; the
  guard still checks what they return.
- **Fields.** Each field of a type that holds one force's record (`Owned`) declares which field of
  the case summary it shows (`governed("suspect", "familyName")`); the guard applies
  `SharingPolicy.visibility` to what it returns:
  - `hidden`: null, and the resolver is not even called;
  - a sealed value (`Sealed`) becomes a `Protected` with the state `CLEAR` (decrypted here),
    `MASKED` (revealable with a purpose) or `EXISTENCE`;
  - a plain value passes only when `clear`.

A read decrypts in three places, each behind these decisions: here, the officer contacts of
`federation.contacts` (which asks `record_view` and each officer field's rule), and a reveal
(`policies.reveal`, audited). `check_governed` refuses to build a schema in which a type names a
case (has a `caseRef`) without being a `NamesCase`, or a field of an `Owned` type has no rule.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import strawberry
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from gateway.graphql.context import Context
from policies.crypto import DecryptionFailed
from policies.keys import KeyringError
from policies.sharing import FIELDS, RecordView, Visibility

RULE = "crossforce.sharing"
ANY_FIELD = "*"
# Fields whose presence says a type names a force's case: such a type must be a `NamesCase`.
CASE_NAMING_FIELDS = frozenset({"caseRef", "otherCaseRef"})


@strawberry.enum(description="What the caller may know of a protected field.")
class FieldState(enum.Enum):
    CLEAR = "CLEAR"
    MASKED = "MASKED"
    EXISTENCE = "EXISTENCE"
    UNREADABLE = "UNREADABLE"


@strawberry.type(
    description=(
        "A sensitive field: its value when the agreement shows it in clear; when MASKED, "
        "`reveal(pointer)` with a purpose; when EXISTENCE, only that the force holds it."
    )
)
class Protected:
    state: FieldState
    pointer: str = strawberry.field(description="JSON pointer into the case summary")
    value: str | None = None


@dataclass(frozen=True)
class Sealed:
    """A resolver's answer for a sensitive field: where it is and its ciphertext."""

    pointer: str
    ciphertext: str


class NamesCase:
    """Marks a strawberry type that names one force's case, or a person in it: `SharingGuard`
    shows each of its values only as far as `record_view` lets the reader know that case."""

    def named_force(self) -> str | None:
        """The force whose case this value names; None when it names none (an entity node)."""
        raise NotImplementedError

    def within(self, view: RecordView) -> Self | None:
        """What of this value a reader with `view` of the case may see: by default all of it at
        `FULL`, nothing below (a type whose reference cannot be blank)."""
        return self if view == RecordView.FULL else None


class Owned(NamesCase):
    """Marks a strawberry type that holds one force's record: it has the private attributes
    `owner` (the force) and `case_ref`, and every field of it must carry a sharing rule."""

    if TYPE_CHECKING:
        owner: str
        case_ref: str

    def named_force(self) -> str | None:
        return self.owner


def governed(type_name: str, field_name: str) -> dict[str, Any]:
    """Field metadata: this GraphQL field shows `field_name` of the summary's `type_name`."""
    if field_name != ANY_FIELD and field_name not in FIELDS[type_name]:
        raise ValueError(f"{type_name}.{field_name} is not in the sharing catalogue")
    return {RULE: (type_name, field_name)}


def _rule(parent: GraphQLObjectType, field_name: str) -> tuple[str, str] | None:
    field = parent.fields.get(field_name)  # None for introspection's __schema and __type
    definition = field.extensions.get("strawberry-definition") if field else None
    metadata = getattr(definition, "metadata", None) or {}
    rule: tuple[str, str] | None = metadata.get(RULE)
    return rule


def _names_case(graphql_type: Any) -> bool:
    """Whether a field's type (lists and non-null unwrapped) is a `NamesCase` type."""
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    if not isinstance(graphql_type, GraphQLObjectType):
        return False
    definition = graphql_type.extensions.get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    return isinstance(origin, type) and issubclass(origin, NamesCase)


@dataclass(frozen=True)
class _Plan:
    rule: tuple[str, str] | None  # the field's own rule, on an `Owned` parent
    records: bool  # the field returns values that name a case


class SharingGuard(SchemaExtension):
    """Applies the agreement to every field that names a case or shows a governed field; other
    fields pass untouched."""

    _plans: dict[tuple[str, str], _Plan] = {}

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: str,
        **kwargs: Any,
    ) -> Any:
        key = (info.parent_type.name, info.field_name)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _plan_of(info.parent_type, info.field_name)
        if plan.rule is None:
            value = _next(root, info, *args, **kwargs)
        else:
            value = _guarded(plan.rule, _next, root, info, *args, **kwargs)
        if not plan.records:
            return value
        if inspect.isawaitable(value):
            return _known_later(value, info.context)
        return known(value, info.context)


def _plan_of(parent: GraphQLObjectType, field_name: str) -> _Plan:
    field = parent.fields.get(field_name)
    return _Plan(_rule(parent, field_name), field is not None and _names_case(field.type))


def known(value: Any, context: Context) -> Any:
    """Of values naming cases, what the reader may know: the rest dropped from a list, or null.

    The guard applies it to every field's value; a subscription applies it to each event it
    yields, which reaches the client without passing a field resolver the guard wraps."""
    if isinstance(value, list):
        return [shown for item in value if (shown := known(item, context)) is not None]
    if not isinstance(value, NamesCase):
        return value
    force = value.named_force()
    return value if force is None else value.within(context.record_view(force))


async def _known_later(value: Awaitable[Any], context: Context) -> Any:
    return known(await value, context)


def level_of(context: Context, owner: str, rule: tuple[str, str]) -> Visibility:
    type_name, field_name = rule
    if field_name == ANY_FIELD:
        return max(context.visibility(owner, type_name, f) for f in FIELDS[type_name])
    return context.visibility(owner, type_name, field_name)


def _guarded(
    rule: tuple[str, str],
    _next: Callable[..., Any],
    root: Any,
    info: GraphQLResolveInfo[Any],
    *args: str,
    **kwargs: Any,
) -> Any:
    """The field as the agreement shows it. Awaitable only when it has to be: a page of victim
    groups resolves thousands of governed fields, and a coroutine for each costs more than the
    fields themselves."""
    context: Context = info.context
    level = level_of(context, root.owner, rule)
    if level == Visibility.HIDDEN:
        return None
    value = _next(root, info, *args, **kwargs)
    if inspect.isawaitable(value):
        return _guarded_later(value, level, rule, root, context)
    if rule[1] == ANY_FIELD:
        return value  # a list of records: each of their fields is guarded in turn
    return _present(value, level, root, context)


async def _guarded_later(
    value: Awaitable[Any], level: Visibility, rule: tuple[str, str], root: Any, context: Context
) -> Any:
    resolved = await value
    if rule[1] == ANY_FIELD:
        return resolved
    shown = _present(resolved, level, root, context)
    return await shown if inspect.isawaitable(shown) else shown


def _present(value: Any, level: Visibility, root: Any, context: Context) -> Any:
    if isinstance(value, list):
        if level != Visibility.CLEAR and not (value and all(isinstance(v, Sealed) for v in value)):
            return None  # plain values below clear show nothing, not a list of blanks
        items = [_present(v, level, root, context) for v in value]
        return _all_of(items) if any(inspect.isawaitable(i) for i in items) else items
    if isinstance(value, Sealed):
        return _protected(value, level, root, context)
    return value if level == Visibility.CLEAR else None


async def _all_of(items: list[Any]) -> list[Any]:
    return [await item if inspect.isawaitable(item) else item for item in items]


def _protected(
    sealed: Sealed, level: Visibility, root: Any, context: Context
) -> Protected | Awaitable[Protected]:
    """Masked or existence at once; clear once the value is opened (awaitable)."""
    if level == Visibility.MASKED:
        return Protected(state=FieldState.MASKED, pointer=sealed.pointer)
    if level == Visibility.EXISTENCE:
        return Protected(state=FieldState.EXISTENCE, pointer=sealed.pointer)
    return _opened(sealed, root, context)


async def _opened(sealed: Sealed, root: Any, context: Context) -> Protected:
    cipher = context.protection.cipher
    try:
        value = await cipher.open(root.owner, root.case_ref, sealed.pointer, sealed.ciphertext)
    except (DecryptionFailed, KeyringError):
        return Protected(state=FieldState.UNREADABLE, pointer=sealed.pointer)
    return Protected(state=FieldState.CLEAR, pointer=sealed.pointer, value=value)


def ungoverned_fields(schema: strawberry.Schema, owned: Iterator[type]) -> list[str]:
    """Fields of owned types that carry no sharing rule (there must be none)."""
    missing = []
    for cls in owned:
        graphql_type = schema._schema.type_map.get(cls.__name__)
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name in graphql_type.fields:
            if _rule(graphql_type, name) is None:
                missing.append(f"{cls.__name__}.{name}")
    return missing


def ungoverned_types(schema: strawberry.Schema) -> list[str]:
    """Object types that name a case (a `caseRef` field) without being a `NamesCase`."""
    return sorted(
        name
        for name, graphql_type in schema._schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType)
        and CASE_NAMING_FIELDS.intersection(graphql_type.fields)
        and not _names_case(graphql_type)
    )


def check_governed(schema: strawberry.Schema) -> None:
    """Refuse a schema in which a type names a case ungoverned, or a record's field has no rule."""
    types = ungoverned_types(schema)
    if types:
        raise TypeError("types naming a case without the record rule: " + ", ".join(types))
    missing = ungoverned_fields(schema, _owned_types())
    if missing:
        raise TypeError("fields without a sharing rule: " + ", ".join(missing))


def _owned_types() -> Iterator[type]:
    stack = list(Owned.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        yield cls
