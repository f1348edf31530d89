"""The on-disk record: raw checks, daily roll-ups, current state, small caches; uptime arithmetic.

``History(data_dir, retention_days=90)`` is the whole public surface; see
``store`` for behaviour, ``layout`` for the folders, ``rawlog`` and ``rollup``
for the file formats.
"""

from generator.history.errors import HistoryError
from generator.history.ledger import Ledger
from generator.history.store import History

__all__ = ["History", "HistoryError", "Ledger"]
