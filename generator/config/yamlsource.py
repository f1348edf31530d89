"""Reading YAML while keeping where everything is.

PyYAML's composer already builds a node tree whose every node carries a start mark
(line and column); constructing plain Python objects would throw those marks away. So
we stop at the node tree and walk it ourselves: each mapping becomes an ordered dict of
:class:`Entry` (key, key node, value node, path), and scalar values are constructed one
at a time with the safe constructor, so ``yes``, ``1.5`` and ``null`` keep YAML's meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .aliases import alias_problem
from .problems import Problem

MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"


class _Loader(yaml.SafeLoader):
    """A private subclass so nothing registered on SafeLoader elsewhere changes how we read."""


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` of a mapping, with both nodes for positions."""

    key: str
    key_node: Node
    node: Node
    path: str
    merged: bool = False  # came in through a merge key (``<<: *anchor``)


def line_col(node_or_mark: Any) -> tuple[int, int]:
    """1-based line and column of a node or a mark (YAML counts from 0)."""
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    if mark is None:
        return 1, 1
    return mark.line + 1, mark.column + 1


def describe(node: Node) -> str:
    """How a value looks to a person: ``a mapping``, ``a list``, ``integer 3``, ``string "x"``."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag.rsplit(":", 1)[-1]
    names = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "null": "null",
             "timestamp": "date"}
    name = names.get(tag, tag)
    if name == "null":
        return "null (an empty value)"
    text = node.value if len(node.value) <= 60 else node.value[:57] + "..."
    return f'{name} "{text}"' if name in ("string", "date") else f"{name} {text}"


class Source:
    """A YAML text composed into nodes, plus the problems met on the way."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.problems: list[Problem] = []
        self.root: Optional[Node] = None
        self._loader = _Loader("")
        self._entries: dict[tuple[int, str], dict[str, Entry]] = {}  # so a mapping's problems are reported once
        self._compose()

    # ----------------------------------------------------------------- composing

    def _compose(self) -> None:
        loader = None
        try:
            loader = _Loader(self.text)  # the reader already rejects control characters here
            root = loader.get_single_node()
            bomb = alias_problem(root)  # before anything walks the aliases
            if bomb is not None:
                self.problem(bomb[0], "", bomb[1])
                return
            self.root = root
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, col = line_col(mark)
            message = error.problem or "invalid YAML"
            if error.context and error.context not in message:
                message = f"{error.context}: {message}"
            if "'\\t'" in message:
                message += " (indent with spaces: YAML does not allow tabs)"
            self.problems.append(Problem(self.file, line, col, "", f"YAML syntax error: {message}"))
        except yaml.reader.ReaderError as error:
            line, col = self._position(error.position)
            self.problems.append(Problem(self.file, line, col, "",
                                         f"YAML syntax error: unacceptable character #x{error.character:04x}"
                                         if isinstance(error.character, int) else f"YAML syntax error: {error}"))
        except RecursionError:
            self.problems.append(Problem(self.file, 1, 1, "", "YAML nesting is too deep"))
        except yaml.YAMLError as error:
            self.problems.append(Problem(self.file, 1, 1, "", f"YAML syntax error: {error}"))
        finally:
            if loader is not None:
                loader.dispose()

    def _position(self, offset: int) -> tuple[int, int]:
        before = self.text[:offset]
        return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1

    # ----------------------------------------------------------------- reading nodes

    def problem(self, where: Any, key: str, message: str) -> None:
        line, col = line_col(where)
        self.problems.append(Problem(self.file, line, col, key, message))

    def _construct(self, node: Node) -> tuple[bool, Any]:
        """``yaml.safe_load``'s value for one node; on failure the problem is recorded at the node."""
        try:
            return True, self._loader.construct_object(node, deep=True)
        except RecursionError:
            self.problem(node, "", "value is nested too deeply")
        except yaml.MarkedYAMLError as error:
            message = error.problem or "cannot read this value"
            if "could not determine a constructor" in message:
                message = "unsupported YAML tag " + message.split("tag", 1)[-1].strip().strip("'")
            self.problem(error.problem_mark or node, "", message)
        except Exception as error:  # e.g. 2024-13-45 looks like a date to YAML but is not one
            self.problem(node, "", f"cannot read {describe(node)}: {error}")
        # a failed construction leaves nodes marked "in progress"; forget them so a later read
        # of the same (aliased) node reports the real problem again, not "recursive node"
        self._loader.recursive_objects.clear()
        self._loader.state_generators = []
        return False, None

    def scalar(self, node: ScalarNode) -> tuple[bool, Any]:
        """Construct one scalar the way ``yaml.safe_load`` would; ``(False, None)`` after a problem."""
        return self._construct(node)

    def plain(self, node: Node) -> tuple[bool, Any]:
        """Any value as plain Python data (for free-form values such as a JSON ``equals``)."""
        return self._construct(node)

    def entries(self, node: MappingNode, path: str) -> dict[str, Entry]:
        """The mapping's entries by key, merge keys (``<<: *anchor``) expanded.

        Reports keys that are not strings and keys given twice (YAML itself would silently
        keep the last one); a key of the mapping itself overrides the same key from a merge.
        """
        cached = self._entries.get((id(node), path))
        if cached is not None:
            return dict(cached)
        result: dict[str, Entry] = {}
        self._entries[(id(node), path)] = result
        for key_node, value_node, merged in self._pairs(node, set()):
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, f"a key must be a plain string, not {describe(key_node)}")
                continue
            if key_node.tag != STR_TAG:
                self.problem(key_node, path,
                             f"a key must be a string, not {describe(key_node)} (quote it: \"{key_node.value}\")")
                continue
            key = key_node.value
            sub = f"{path}.{key}" if path else key
            if key in result and not merged:
                if not result[key].merged:
                    first, _ = line_col(result[key].key_node)
                    self.problem(key_node, sub, f"duplicate key (first given at line {first})")
                    continue
            elif key in result and merged:
                continue  # an earlier merge wins over a later one, as in YAML
            result[key] = Entry(key, key_node, value_node, sub, merged)
        return dict(result)

    def _pairs(self, node: MappingNode, seen: set[int]) -> list[tuple[Node, Node, bool]]:
        """Key/value node pairs; pairs that came in through a merge key are flagged (and listed first)."""
        if id(node) in seen:  # ``&a {<<: *a}``: a mapping that merges itself
            return []
        seen = seen | {id(node)}
        own: list[tuple[Node, Node, bool]] = []
        merged: list[tuple[Node, Node, bool]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if isinstance(source, MappingNode):
                        merged.extend((k, v, True) for k, v, _ in self._pairs(source, seen))
                    else:
                        self.problem(source, "", f"a merge key (<<) needs a mapping or a list of mappings, "
                                                 f"not {describe(source)}")
            else:
                own.append((key_node, value_node, False))
        return merged + own

