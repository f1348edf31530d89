"""Exit codes of every ``statusgen`` command, stable and documented in the README."""

OK = 0  # the command did its job (monitors may well be down: that is data, not failure)
BAD_INPUT = 2  # an invalid monitors.yaml, a bad argument, a malformed file
TRACKER = 3  # the tracker (GitHub) stayed unavailable; checks were recorded and the site built
DATA = 4  # the history in data/ could not be read or written
