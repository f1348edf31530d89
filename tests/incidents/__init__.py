"""Tests of generator/incidents/: the trackers and their shared text."""
