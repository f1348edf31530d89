"""Probe types: one module each, all with the signature ``probe(monitor, timeout) -> Check``, listed in
:mod:`generator.probes.registry`.

A probe returns DOWN with a short, masked reason for every failure it
understands; anything it raises is turned into a DOWN check by the runner.
"""

from __future__ import annotations

from generator.probes.registry import PROBES, Probe

__all__ = ["PROBES", "Probe"]
