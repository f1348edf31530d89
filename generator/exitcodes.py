"""Exit codes of every ``statusgen`` command, stable and documented in the README.

Only ``generator.cli`` uses them: library code raises the typed failures of ``generator.errors``."""

OK = 0  # the command did its job (monitors may well be down: that is data, not failure)
BAD_INPUT = 2  # an invalid monitors.yaml, a bad argument, a malformed file
TRACKER = 3  # the tracker (GitHub) stayed unavailable; checks were recorded and the site built
DATA = 4  # the history in data/ could not be read or written
INTERRUPTED = 130  # Ctrl-C (SIGINT): the shell's convention, 128 + 2
