"""Tests of generator/incidents/github/: the GitHub backend and its parts."""
