"""Key kinds for monitors that run a program (``type: command``): its argument list and its environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, ScalarNode

from .keys import Key, Samples, ref
from .reader import Reader
from .yamlsource import Entry, describe

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass(frozen=True, kw_only=True)
class Arguments(Key):
    """A program and its arguments as a list, never a shell string: nothing is split or expanded but
    ``${NAME}``. Numbers after the program are taken as written (``-p, 8080``)."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        node = entry.node
        if isinstance(node, ScalarNode) and isinstance(node.value, str) and len(node.value.split()) > 1 \
                and node.tag == "tag:yaml.org,2002:str":
            words = ", ".join(node.value.split())
            reader.problem(node, entry.path, f"a command is a list of arguments, not a shell line: write [{words}]")
            return None
        items = reader.items(entry)
        if items is None:
            return None
        if not items:
            reader.problem(node, entry.path, "needs at least the program to run")
            return None
        values: list[str] = []
        failed = False
        for index, (item, path) in enumerate(items):
            if index and isinstance(item, ScalarNode) and item.tag in NUMBER_TAGS:
                values.append(item.value)  # as written: 08 stays 08, 1.50 stays 1.50
                continue
            value = reader.text(item, path, allow_empty=index > 0)
            if value is None:
                failed = True
            else:
                values.append(value)
        return None if failed else tuple(values)

    def fragment(self) -> dict[str, Any]:
        return {"oneOf": [
            {"type": "string", "pattern": r"^\S+$"},
            {"type": "array", "minItems": 1, "items": [ref("text")], "additionalItems": {"type": ["string", "number"]}},
        ]}

    def samples(self) -> Samples:
        return ((["check_dummy", "0", "all good"], True), ("check_dummy", True), (["check_tcp", "-p", 5432], True),
                ("check_dummy 0", False), ([], False), ([5], False), ({"a": 1}, False), (["check_dummy", True], False))


@dataclass(frozen=True, kw_only=True)
class Environment(Key):
    """Environment variables for a program: NAME -> text (``${NAME}`` allowed in the text)."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        node = entry.node
        if not isinstance(node, MappingNode):
            reader.problem(node, entry.path, f"expected a mapping of variable names to values, got {describe(node)}")
            return None
        result = []
        failed = False
        for name, sub in reader.source.entries(node, entry.path).items():
            if not re.fullmatch(ENV_NAME, name):
                reader.problem(sub.key_node, sub.path, f'"{name}" is not a variable name: use letters, digits and _, '
                                                       f"not starting with a digit")
                failed = True
                continue
            value = reader.text(sub.node, sub.path, allow_empty=True)
            if value is None:
                failed = True
            else:
                result.append((name, value))
        return None if failed else tuple(result)

    def fragment(self) -> dict[str, Any]:
        return {"type": "object", "propertyNames": {"pattern": ENV_NAME}, "additionalProperties": {"type": "string"}}

    def samples(self) -> Samples:
        return (({"API_TOKEN": "${API_TOKEN}", "MODE": ""}, True), ({}, True), ({"1BAD": "x"}, False),
                ({"COUNT": 5}, False), ("A=1", False))
