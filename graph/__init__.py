"""The graph store port, its Neo4j and FalkorDB adapters, the embedded launcher and all Cypher."""

from graph.connect import GraphConnection, open_graph
from graph.port import ConstraintViolation, GraphError, GraphStore, GraphUnavailable, Record

__all__ = [
    "ConstraintViolation",
    "GraphConnection",
    "GraphError",
    "GraphStore",
    "GraphUnavailable",
    "Record",
    "open_graph",
]
