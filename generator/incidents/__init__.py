"""Incident trackers: the interface (``base``) and its backends (``files``, ``github``).

Import a backend from its own module (``generator.incidents.files``); this
package only re-exports the interface so importing it never pulls in PyGithub.
"""

from generator.incidents.base import Tracker, TrackerError

__all__ = ["Tracker", "TrackerError"]
