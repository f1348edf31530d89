"""What every probe type declares: one :class:`ProbeType`, named ``TYPE`` in its module, listed once in the registry.

The loader builds a monitor's spec through :meth:`ProbeType.build`, the JSON Schema generator
describes the type through :meth:`ProbeType.properties`, and the runner calls ``probe``. The shape
is Gatus' alerting providers (one small interface that each provider fits, and a test that each
still does: ``tests/probes/test_registry.py``) with MkDocs' config options for the keys (each key
validates itself and carries its docs, see :mod:`generator.config.keys`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from generator.config.keys import ABSENT, Key, SpecContext, read_keys
from generator.models import Check, Monitor

# ``probe(monitor, timeout) -> Check``: DOWN with a short, masked reason for every failure it
# understands; anything it raises is turned into a DOWN check by the runner
Probe = Callable[[Monitor, float], Check]
# the same contract as a coroutine: a type may declare one, and the runner then runs its checks on
# one event loop (shared clients, no thread per check) instead of the worker pool
AsyncProbe = Callable[[Monitor, float], Awaitable[Check]]
# rules across keys, once the spec is built: report problems through the context, False when any
SpecCheck = Callable[[Any, SpecContext], bool]


@dataclass(frozen=True)
class ProbeType:
    name: str  # the ``type:`` value
    doc: str  # what it checks, in a line
    spec: type[Any]  # a frozen dataclass; each key fills the field of its name (or ``field``)
    keys: tuple[Key, ...]
    probe: Probe
    check: SpecCheck | None = None
    async_probe: AsyncProbe | None = None

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys if key.required)

    def build(self, context: SpecContext) -> Any | None:
        """The spec from a monitor's entries, or None when something was wrong (already reported)."""
        fields = read_keys(context, self.keys)
        if fields is None:
            return None
        spec = self.spec(**fields)
        if self.check is not None and not self.check(spec, context):
            return None
        return spec

    def default(self, key: Key) -> Any:
        """The key's default as the schema shows it: the spec field's, when it is a plain value."""
        for spec_field in dataclasses.fields(self.spec):
            if spec_field.name == key.attr and isinstance(spec_field.default, (str, int, float)):
                return spec_field.default  # bool is an int
        return ABSENT

    def properties(self) -> dict[str, Any]:
        """JSON Schema properties of this type's keys, with their docs and defaults."""
        return {key.name: key.schema(default=self.default(key)) for key in self.keys}

    def definitions(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in self.keys:
            found.update(key.definitions())
        return found
