"""Incidents as GitHub issues, in parts that each do one thing.

- ``transport``: the connection under PyGithub, which turns any 3xx into something the client follows;
- ``client``: HTTP over PyGithub's Requester (retries within a budget, rate limits, pacing,
  pagination, redirects, conditional requests, request counting);
- ``repo``: the repository endpoints the tracker uses, with their answers' shape checked;
- ``mirror``: the issues and comments kept on disk, refreshed incrementally (no HTTP);
- ``labeller``: the label scheme on GitHub: created once, checked on every write;
- ``trust``: who the tool is and whose words are published;
- ``text``: issue bodies and comments written and read back (markers, events, maintenance);
- ``tracker``: :class:`GitHubTracker`, the ``Tracker`` that composes them.
"""

from generator.incidents.github.client import RetryPolicy
from generator.incidents.github.mirror import CACHE_NAME
from generator.incidents.github.text import event_of, marker_of
from generator.incidents.github.tracker import GitHubTracker

__all__ = ["CACHE_NAME", "GitHubTracker", "RetryPolicy", "event_of", "marker_of"]
