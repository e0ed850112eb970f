"""All Cypher of Crossforce, portable openCypher, parameterised only, grouped by concern."""
