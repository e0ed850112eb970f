"""The graph around a case or entity, and paths between two: what the graph explorer draws.

Only cases the caller may know of are crossed, and none whose links the change feed holds back
from the caller (`loaders.held_back`: while a force is over its intake ceiling, its cases are
drawn for it alone, and it is drawn none of other forces'). An entity reached only through such
cases is drawn, flagged `existenceOnly` where no agreement shows its identifying field. Entities
hold no personal data (their ids are blind indexes), so the drawing never does either.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field

import strawberry

from gateway.graphql import loaders
from gateway.graphql.context import Context
from gateway.graphql.errors import BadInput, NotFound
from gateway.graphql.paging import after_position, position_cursor
from gateway.graphql.sharing import NamesCase
from gateway.graphql.types import RiskLevel
from graph.cases import case_key
from graph.explorer import CaseHead, Explorer, NodeKey
from graph.queries.links import ENTITY_KINDS

MAX_DEPTH = 3
MAX_NODES = 2000
MAX_PATH_HOPS = 6
CASE = "Case"


@strawberry.enum
class NodeKind(enum.Enum):
    CASE = "CASE"
    PERSON = "PERSON"
    DEVICE = "DEVICE"
    ACCOUNT = "ACCOUNT"
    IP_ADDRESS = "IP_ADDRESS"
    MEDIA = "MEDIA"
    SERIES = "SERIES"


KIND_OF_LABEL = {CASE: NodeKind.CASE} | {
    label: NodeKind(kind) for label, kind in ENTITY_KINDS.items()
}


@strawberry.input(description="A case by force and reference, or any node by its id.")
class NodeRef:
    id: strawberry.ID | None = None
    force: str | None = None
    case_ref: str | None = None

    def label_and_key(self) -> tuple[str, str]:
        if self.id is not None and self.force is None and self.case_ref is None:
            label, _, key = str(self.id).partition(":")
            if label not in KIND_OF_LABEL or not 0 < len(key) <= 200:
                raise BadInput("id: not a node id")
            return label, key
        if self.id is None and self.force and self.case_ref:
            return CASE, case_key(self.force, self.case_ref)
        raise BadInput("give either id, or force and caseRef")


@strawberry.type(description="A case or a shared entity in the drawing.")
class GraphNode(NamesCase):
    id: strawberry.ID
    kind: NodeKind
    distance: int = strawberry.field(description="hops from the start")
    force: str | None = None
    case_ref: str | None = None
    risk_level: RiskLevel | None = None
    held_by: list[str] = strawberry.field(
        default_factory=list, description="forces whose visible cases hold this entity"
    )
    existence_only: bool = strawberry.field(
        default=False, description="only that these forces hold it is known"
    )

    def named_force(self) -> str | None:
        return self.force if self.kind == NodeKind.CASE else None


@strawberry.type
class GraphEdge:
    source: strawberry.ID
    target: strawberry.ID
    relation: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class GraphNodeEdge:
    node: GraphNode
    cursor: str


@strawberry.type(description="A page of the neighbourhood, nearest first, and the links among it.")
class Neighbourhood:
    edges: list[GraphNodeEdge]
    links: list[GraphEdge] = strawberry.field(description="graph edges among nodes up to this page")
    page_info: PageInfo
    total_count: int
    truncated: bool = strawberry.field(description=f"stopped at {MAX_NODES} nodes")


def node_id(label: str, key: str) -> strawberry.ID:
    return strawberry.ID(f"{label}:{key}")


def encode_cursor(offset: int) -> str:
    return position_cursor(offset)


def decode_cursor(cursor: str | None) -> int:
    return after_position(cursor)


@dataclass
class _Drawing:
    context: Context
    held: frozenset[str] = frozenset()  # forces whose link events are held
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: set[tuple[str, str, str]] = field(default_factory=set)
    holders: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    truncated: bool = False

    def crosses(self, force: str) -> bool:
        return _crosses(self.context, force, self.held)

    @property
    def explorer(self) -> Explorer:
        return Explorer(self.context.graph)

    def add_case(self, head: CaseHead, distance: int) -> bool:
        if not self.crosses(head.force):
            return False
        nid = str(node_id(CASE, head.key))
        if nid not in self.nodes:
            self.nodes[nid] = _case_node(head, distance)
        return True

    def add_entity(self, entity: NodeKey, holder: str, distance: int) -> None:
        nid = str(node_id(entity.label, entity.key))
        self.holders[nid].add(holder)
        if nid not in self.nodes:
            self.nodes[nid] = GraphNode(
                id=strawberry.ID(nid), kind=KIND_OF_LABEL[entity.label], distance=distance
            )

    async def finish(self) -> None:
        """Each entity's holders over the whole graph, not only the cases drawn: a device
        another force also holds shows both, however deep the drawing went."""
        everyone = await _holders(self.context, self.held, list(self.holders))
        for nid, drawn in self.holders.items():
            forces = drawn | everyone.get(nid, set())
            node = self.nodes[nid]
            node.held_by = sorted(forces)
            label = nid.split(":", 1)[0]
            node.existence_only = not self.context.entity_identified(label, forces)


async def _expand_cases(drawing: _Drawing, keys: list[str], distance: int) -> list[NodeKey]:
    found = []
    for part in await drawing.explorer.entities_of(keys):
        case = drawing.nodes[str(node_id(CASE, part.case))]
        entity = part.entity
        nid = str(node_id(entity.label, entity.key))
        if nid not in drawing.nodes:
            found.append(entity)
        drawing.add_entity(entity, case.force or "", distance)
        drawing.edges.add((str(case.id), nid, part.relation))
    return found


async def _expand_entities(drawing: _Drawing, keys: list[str], distance: int) -> list[NodeKey]:
    found = []
    for holding in await drawing.explorer.cases_of(keys):
        case = holding.case
        cid = str(node_id(CASE, case.key))
        new = cid not in drawing.nodes
        if not drawing.add_case(case, distance):
            continue
        if new:
            found.append(NodeKey(CASE, case.key))
        eid = str(node_id(holding.entity.label, holding.entity.key))
        drawing.holders[eid].add(case.force)
        drawing.edges.add((cid, eid, holding.relation))
    return found


async def _start(drawing: _Drawing, label: str, key: str) -> None:
    if label == CASE:
        head = (await drawing.explorer.heads([key])).get(key)
        if head is None or not drawing.add_case(head, 0):
            raise NotFound("no such case")
        return
    holding = await drawing.explorer.cases_of([key])
    visible = [h.case for h in holding if h.entity.label == label and drawing.crosses(h.case.force)]
    if not visible:
        raise NotFound("no such node")  # an entity no visible case holds does not exist for you
    drawing.nodes[str(node_id(label, key))] = GraphNode(
        id=node_id(label, key), kind=KIND_OF_LABEL[label], distance=0
    )
    drawing.holders[str(node_id(label, key))].update(case.force for case in visible)


async def draw(context: Context, label: str, key: str, depth: int) -> _Drawing:
    if not 0 < depth <= MAX_DEPTH:
        raise BadInput(f"depth: between 1 and {MAX_DEPTH}")
    drawing = _Drawing(context, await loaders.held_forces(context))
    await _start(drawing, label, key)
    frontier = [NodeKey(label, key)]
    for distance in range(1, depth + 1):
        cases = [node.key for node in frontier if node.label == CASE]
        entities = [node.key for node in frontier if node.label != CASE]
        frontier = []
        if cases:
            frontier += await _expand_cases(drawing, cases, distance)
        if entities:
            frontier += await _expand_entities(drawing, entities, distance)
        if len(drawing.nodes) > MAX_NODES:
            drawing.truncated = True
            break
    await drawing.finish()
    return drawing


def page(drawing: _Drawing, first: int, after: str | None) -> Neighbourhood:
    ordered = sorted(drawing.nodes.values(), key=lambda n: (n.distance, n.kind.value, str(n.id)))
    start = decode_cursor(after)
    chosen = ordered[start : start + first]
    shown = {str(n.id) for n in ordered[: start + first]}
    return Neighbourhood(
        edges=[
            GraphNodeEdge(node=n, cursor=encode_cursor(start + i)) for i, n in enumerate(chosen)
        ],
        links=[
            GraphEdge(source=strawberry.ID(a), target=strawberry.ID(b), relation=r)
            for a, b, r in sorted(drawing.edges)
            if a in shown and b in shown
        ],
        page_info=PageInfo(
            has_next_page=start + first < len(ordered),
            end_cursor=encode_cursor(start + len(chosen) - 1) if chosen else None,
        ),
        total_count=len(ordered),
        truncated=drawing.truncated,
    )


async def path(
    context: Context, start: tuple[str, str], end: tuple[str, str], max_hops: int
) -> list[GraphNode] | None:
    """A shortest path; null when there is none, or when it crosses what the caller may not see.
    From a node to itself it is that node alone, on every engine (Neo4j's `shortestPath` refuses
    one node at both ends)."""
    if not 0 < max_hops <= MAX_PATH_HOPS:
        raise BadInput(f"maxHops: between 1 and {MAX_PATH_HOPS}")
    explorer = Explorer(context.graph)
    if start == end:
        hops = await _alone(context, NodeKey(*start))
    else:
        hops = await explorer.shortest_path(NodeKey(*start), NodeKey(*end), max_hops)
    if not hops or any(hop.label not in KIND_OF_LABEL for hop in hops):
        return None
    cases = [hop.key for hop in hops if hop.label == CASE]
    heads = await explorer.heads(cases) if cases else {}
    held = await loaders.held_forces(context)
    nodes = []
    for distance, hop in enumerate(hops):
        if hop.label == CASE:
            head = heads.get(hop.key)
            if head is None or not _crosses(context, head.force, held):
                return None
            nodes.append(_case_node(head, distance))
        else:
            nodes.append(
                GraphNode(
                    id=node_id(hop.label, hop.key), kind=KIND_OF_LABEL[hop.label], distance=distance
                )
            )
    await _entity_holders(context, held, nodes)
    return nodes


async def _alone(context: Context, node: NodeKey) -> list[NodeKey] | None:
    """The path of no hops: a case (checked with the path's cases), or an entity that a case the
    caller may see holds (else the answer would say whether the hub holds an identifier)."""
    if node.label == CASE:
        return [node]
    holding = await Explorer(context.graph).cases_of([node.key])
    held = await loaders.held_forces(context)
    if any(h.entity == node and _crosses(context, h.case.force, held) for h in holding):
        return [node]
    return None


def _crosses(context: Context, force: str, held: frozenset[str]) -> bool:
    """Whether the drawing may show a case of `force` to the caller."""
    reader = context.principal.force
    return context.knows_case(force) and not loaders.held_back(reader, reader, force, held)


def _case_node(head: CaseHead, distance: int) -> GraphNode:
    return GraphNode(
        id=node_id(CASE, head.key),
        kind=NodeKind.CASE,
        distance=distance,
        force=head.force,
        case_ref=head.case_ref,
        risk_level=RiskLevel(head.risk_level),
    )


async def _holders(
    context: Context, held: frozenset[str], node_ids: list[str]
) -> dict[str, set[str]]:
    """The forces whose cases hold each entity, as far as the caller may know those cases."""
    keys = sorted({nid.split(":", 1)[1] for nid in node_ids})
    if not keys:
        return {}
    return {
        str(node_id(found.entity.label, found.entity.key)): {
            force for force in found.forces if _crosses(context, force, held)
        }
        for found in await Explorer(context.graph).forces_of(keys)
    }


async def _entity_holders(context: Context, held: frozenset[str], nodes: list[GraphNode]) -> None:
    entities = [node for node in nodes if node.kind != NodeKind.CASE]
    holders = await _holders(context, held, [str(node.id) for node in entities])
    for node in entities:
        forces = holders.get(str(node.id), set())
        node.held_by = sorted(forces)
        label = str(node.id).split(":", 1)[0]
        node.existence_only = not context.entity_identified(label, forces)
