"""A budget for YAML aliases: a small file must not stand for a huge document.

PyYAML composes an alias as one more reference to the anchored node, so nine levels of
``&a [*b, *b, ...]`` make a 1 KB file whose values expand to a billion nodes ("billion laughs"):
building, comparing or printing them then takes minutes and gigabytes. Every reader of YAML in
statusgen composes the node graph first, weighs it here (linear in the nodes written: each node
is visited once), and refuses it before anything walks or constructs it.

The budget: aliases may add at most ``BASE + RATIO x`` (nodes written) nodes, and never more than
``CAP``. Anchors used the way people use them (a block of defaults merged into each monitor)
stay far below it; an alias bomb is refused at once, naming the anchor's line.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

BASE = 100_000
RATIO = 10
CAP = 1_000_000


class AliasBomb(yaml.MarkedYAMLError):
    """YAML whose aliases expand past the budget; ``problem_mark`` is the anchor to blame."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def alias_problem(root: Node | None) -> tuple[Node, str] | None:
    """``(anchored node, message)`` when aliases expand ``root`` past the budget, else None.

    A recursive alias (``&a [1, *a]``) is not weighed twice: it is the constructor's business,
    which reports it where the value is read.
    """
    if root is None:
        return None
    size: dict[int, int] = {}
    nodes: dict[int, Node] = {id(root): root}
    uses: Counter[int] = Counter()
    active = {id(root)}
    stack: list[tuple[Node, list[Node], int]] = [(root, _children(root), 0)]
    while stack:
        node, children, index = stack[-1]
        if index < len(children):
            stack[-1] = (node, children, index + 1)
            child = children[index]
            uses[id(child)] += 1
            if id(child) not in size and id(child) not in active:
                nodes[id(child)] = child
                active.add(id(child))
                stack.append((child, _children(child), 0))
            continue
        stack.pop()
        active.discard(id(node))
        # a back edge (recursion) weighs one node
        size[id(node)] = 1 + sum(size.get(id(child), 1) for child in children)
    written = len(size)
    added = size[id(root)] - written
    allowed = min(CAP, BASE + RATIO * written)
    if added <= allowed:
        return None
    shared = [key for key, count in uses.items() if count > 1]
    blame = max(shared, key=lambda key: (uses[key] - 1) * size.get(key, 1)) if shared else id(root)
    message = (f"YAML aliases expand {written:,} written nodes by {added:,} more (at most {allowed:,} "
               f"are allowed); the anchor here is used {uses[blame]} times: this looks like an alias bomb")
    return nodes[blame], message


def check(root: Node | None) -> None:
    """Raise :class:`AliasBomb` (a ``MarkedYAMLError``, so YAML error handlers report it) when over budget."""
    found = alias_problem(root)
    if found is not None:
        node, message = found
        raise AliasBomb(problem=message, problem_mark=node.start_mark)


def load(text: str, loader: type[Any] | None = None) -> Any:
    """``yaml.safe_load`` with the alias budget (``loader`` defaults to libyaml's safe loader when present)."""
    kind: Any = loader or getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    reader = kind(text)
    try:
        root = reader.get_single_node()
        check(root)
        return None if root is None else reader.construct_document(root)
    finally:
        reader.dispose()
