"""The key vocabulary: each key a small object that reads itself out of YAML and describes itself in JSON Schema.

A probe type lists its keys with these (see :mod:`generator.probes.registry`). The loader reads a
monitor's entries through them, with the :class:`Reader`'s located problems (file:line:col, key
path, did-you-mean), and :mod:`generator.config.schema` writes each key's fragment and description
from the same object: the docs live once and the schema cannot drift from the loader.

``read`` returns the value, or ``None`` when it recorded a problem. ``samples`` are values that the
schema and the loader must both accept (``True``) or both reject (``False``); a test holds them to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

import certifi
from yaml.nodes import Node

from . import validators as v
from .reader import Reader
from .yamlsource import Entry

# a key that was not given (distinct from None, which means "given, with a problem")
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
REF = r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"
Samples = tuple[tuple[Any, bool], ...]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def one_of_words(words: Iterable[str]) -> str:
    """A case-insensitive pattern without ``(?i)``, which editors' (ECMAScript) regexes lack."""
    spelled = ("".join(f"[{ch.upper()}{ch.lower()}]" if ch.isalpha() else ch for ch in word) for word in words)
    return "^(" + "|".join(spelled) + ")$"


def with_refs(pattern: str) -> str:
    """A pattern that also accepts any text holding a ``${NAME}`` reference (checked once resolved)."""
    return f"(?:{pattern})|^.*{REF}.*$"


def merge_headers(*groups: tuple[tuple[str, str], ...] | None) -> tuple[tuple[str, str], ...]:
    """Later groups win, header names compared without case."""
    merged: dict[str, tuple[str, str]] = {}
    for group in groups:
        for name, value in group or ():
            merged[name.lower()] = (name, value)
    return tuple(merged.values())


@dataclass(frozen=True)
class Key:
    """One key of a monitor: its name, docs, and how it is read, inherited and described."""

    name: str
    doc: str
    _: KW_ONLY
    required: bool = False
    hint: str = ""  # appended to "missing required key ..."
    field: str = ""  # the spec field it fills, when not its name
    inherit: bool = False  # ``defaults:`` may set it for every monitor of the type
    defaults_doc: str = ""  # its description under ``defaults:``, when not ``doc``

    @property
    def attr(self) -> str:
        return self.field or self.name

    def read(self, reader: Reader, entry: Entry) -> Any:
        raise NotImplementedError

    def fragment(self) -> dict[str, Any]:
        """The JSON Schema of the value, without docs."""
        raise NotImplementedError

    def samples(self) -> Samples:
        raise NotImplementedError

    def definitions(self) -> dict[str, Any]:
        """Named schema pieces the fragment refers to, beyond the shared ones in schema.py."""
        return {}

    def schema(self, *, doc: str = "", default: Any = ABSENT) -> dict[str, Any]:
        shown = {} if default is ABSENT else {"default": default}
        return {**self.fragment(), "description": doc or self.doc, **shown}

    def combine(self, inherited: Any, own: Any) -> Any:
        """The value from ``defaults:`` and the monitor's own (ABSENT when not given)."""
        return inherited if own is ABSENT else own

    def finish(self, value: Any) -> Any:
        """The spec field's value from what was read (and combined)."""
        return value


@dataclass(frozen=True)
class SpecContext:
    """One monitor's entries while its spec is read; ``defaults`` holds what ``defaults:`` set."""

    reader: Reader
    entries: Mapping[str, Entry]
    node: Node
    path: str
    defaults: Mapping[str, Any]


def read_keys(context: SpecContext, keys: Iterable[Key]) -> dict[str, Any] | None:
    """Spec fields from the keys given, merged with inherited defaults; None when one had a problem."""
    fields: dict[str, Any] = {}
    failed = False
    for key in keys:
        entry = context.entries.get(key.name)
        own: Any = ABSENT
        if entry is not None:
            own = key.read(context.reader, entry)
            if own is None:
                failed = True
                continue
        elif key.required:
            context.reader.problem(context.node, context.path, f'missing required key "{key.name}"{key.hint}')
            failed = True
            continue
        value = own
        if key.inherit and key.name in context.defaults:
            value = key.combine(context.defaults[key.name], own)
        if value is not ABSENT:
            fields[key.attr] = key.finish(value)
    return None if failed else fields


# --------------------------------------------------------------------------- text


@dataclass(frozen=True, kw_only=True)
class Text(Key):
    allow_empty: bool = False

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.text(entry.node, entry.path, allow_empty=self.allow_empty)

    def fragment(self) -> dict[str, Any]:
        return {"type": "string"} if self.allow_empty else ref("text")

    def samples(self) -> Samples:
        return ("some text", True), ("", self.allow_empty), (5, False), (["a"], False)


@dataclass(frozen=True, kw_only=True)
class Checked(Key):
    """Text that must also pass a check from :mod:`validators` (after ``${NAME}`` is resolved)."""

    check: Callable[[str], str | None]
    schema_ref: str = ""  # a shared definition, or
    pattern: str = ""  # a pattern of its own
    secret_ok: bool = True
    good: tuple[str, ...] = ()
    bad: tuple[Any, ...] = ()

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.checked_text(entry, self.check, secret_ok=self.secret_ok)

    def fragment(self) -> dict[str, Any]:
        return ref(self.schema_ref) if self.schema_ref else {"type": "string", "pattern": self.pattern}

    def samples(self) -> Samples:
        return tuple((value, True) for value in self.good) + tuple((value, False) for value in self.bad)


def http_url(name: str, doc: str, **options: Any) -> Checked:
    return Checked(name, doc, check=v.http_url, schema_ref="httpUrl", good=("https://example.com/health",),
                   bad=("ftp://example.com/", "example.com", 80), **options)


def host(name: str, doc: str, **options: Any) -> Checked:
    return Checked(name, doc, check=v.hostname, schema_ref="host", good=("example.com", "192.0.2.1"),
                   bad=("bad host", "", 5), **options)


def host_port(name: str, doc: str, *, default_port: int, **options: Any) -> Checked:
    """host:port, or a bare host meaning ``default_port``."""
    pattern = with_refs(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$")
    return Checked(name, doc, check=lambda text: v.host_port_problem(text, default_port=default_port),
                   pattern=pattern, good=("127.0.0.1:5353", "resolver.example", "[::1]:53"),
                   bad=("a b", "host:port:x", 53), **options)


def regex(name: str, doc: str, **options: Any) -> Checked:
    return Checked(name, doc, check=v.regex, pattern=r"\S", secret_ok=False, good=("^ok$",), bad=("", 5),
                   **options)


@dataclass(frozen=True, kw_only=True)
class CaBundle(Key):
    """A file of PEM CA certificates, checked to load; a relative path is taken from the monitors
    file's folder (and stored that way, so ``run`` reads the file that ``check`` looked at)."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        value = reader.text(entry.node, entry.path)
        if value is None or reader.unresolved(value):
            return value
        path = value if os.path.isabs(value) else os.path.join(os.path.dirname(reader.source.file), value)
        problem = v.ca_bundle(path)
        if problem:
            reader.problem(entry.node, entry.path, f"{v.quote(value)}: {problem}")
            return None
        return path

    def fragment(self) -> dict[str, Any]:
        return ref("text")

    def samples(self) -> Samples:
        return (certifi.where(), True), (5, False), ("", False)


@dataclass(frozen=True, kw_only=True)
class Texts(Key):
    """A string or a list of strings."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.texts(entry)

    def fragment(self) -> dict[str, Any]:
        return ref("strings")

    def samples(self) -> Samples:
        return ("one", True), (["one", "two"], True), ({"a": 1}, False), ([""], False)


@dataclass(frozen=True, kw_only=True)
class Headers(Key):
    """Header names to values; a monitor's headers merge with ``defaults:`` by name."""

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.headers(entry)

    def fragment(self) -> dict[str, Any]:
        return ref("headers")

    def samples(self) -> Samples:
        return ({"X-Probe": "statusgen"}, True), ({"bad name": "x"}, False), ("X-Probe: 1", False)

    def combine(self, inherited: Any, own: Any) -> Any:
        return merge_headers(inherited, None if own is ABSENT else own)


# --------------------------------------------------------------------------- numbers, switches, choices


@dataclass(frozen=True, kw_only=True)
class Integer(Key):
    minimum: int
    maximum: int
    schema_ref: str = ""  # a shared definition with the same bounds (``port``)

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.integer(entry.node, entry.path, minimum=self.minimum, maximum=self.maximum)

    def fragment(self) -> dict[str, Any]:
        if self.schema_ref:
            return ref(self.schema_ref)
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def samples(self) -> Samples:
        return ((self.minimum, True), (self.maximum, True), (self.minimum - 1, False), (self.maximum + 1, False),
                ("7", False), (True, False), (1.5, False))


def port(name: str, doc: str, **options: Any) -> Integer:
    return Integer(name, doc, minimum=1, maximum=65535, schema_ref="port", **options)


@dataclass(frozen=True, kw_only=True)
class Boolean(Key):
    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.boolean(entry.node, entry.path)

    def fragment(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def samples(self) -> Samples:
        return (True, True), (False, True), ("yes", False), (1, False)


@dataclass(frozen=True, kw_only=True)
class Choice(Key):
    choices: tuple[str, ...]
    fold: bool = False  # any case is accepted and read as upper case

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.enum(entry.node, entry.path, self.choices, fold=self.fold)

    def fragment(self) -> dict[str, Any]:
        if self.fold:
            return {"type": "string", "pattern": one_of_words(self.choices)}
        return {"enum": list(self.choices)}

    def samples(self) -> Samples:
        first = self.choices[0]
        return (first, True), (first.lower() if self.fold else first, True), ("nope", False), (1, False)


@dataclass(frozen=True, kw_only=True)
class Duration(Key):
    positive: bool = False

    def read(self, reader: Reader, entry: Entry) -> Any:
        return reader.duration(entry.node, entry.path, positive=self.positive)

    def fragment(self) -> dict[str, Any]:
        return ref("positiveDuration" if self.positive else "duration")

    def samples(self) -> Samples:
        return ("30s", True), (1.5, True), ("soon", False), ("0s", not self.positive), ([1], False)


# --------------------------------------------------------------------------- a block of keys


@dataclass(frozen=True, kw_only=True)
class Block(Key):
    """A mapping of keys of its own (``expect:``), read key by key and merged with ``defaults:`` by key.

    It is described once, as the schema definition ``definition``, and referred to from each place.
    """

    keys: tuple[Key, ...]
    definition: str
    make: Callable[..., Any]  # the spec field's value from the block's fields
    what: str = ""  # names the block in "expected a mapping..."

    def read(self, reader: Reader, entry: Entry) -> Any:
        entries = reader.mapping(entry.node, entry.path, [key.name for key in self.keys], what=self.what)
        if entries is None:
            return None
        result = {key.attr: key.read(reader, entries[key.name]) for key in self.keys if key.name in entries}
        return None if any(value is None for value in result.values()) else result

    def fragment(self) -> dict[str, Any]:
        return ref(self.definition)

    def definitions(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in self.keys:
            found.update(key.definitions())
        found[self.definition] = {
            "type": "object",
            "description": self.doc,
            "additionalProperties": False,
            "properties": {key.name: key.schema() for key in self.keys},
        }
        return found

    def samples(self) -> Samples:
        inner = tuple(({key.name: value}, ok) for key in self.keys for value, ok in key.samples())
        return ({}, True), ({"nope": 1}, False), ("text", False), *inner

    def combine(self, inherited: Any, own: Any) -> Any:
        return {**inherited, **({} if own is ABSENT else own)}

    def finish(self, value: Any) -> Any:
        return self.make(**value)
