"""The restart agent: a small HTTP server on the service's host that runs a configured command.

``statusgen agent --config agent.yaml --listen 127.0.0.1:9090``. It accepts only
signed restart webhooks (see :mod:`generator.signing`), looks the monitor up in
its *own* configuration and runs that monitor's command as an argument list --
nothing from the request reaches argv, and no shell is involved. Request details
travel to the command in ``STATUSGEN_*`` environment variables.

Answers: 202 accepted (or a duplicate of a running/finished delivery), 400
malformed, 401 bad signature or stale timestamp, 404 unknown monitor or path,
405 wrong method, 409 replayed (remembered across restarts), 411 no length, 413 body
too large, 429 another restart of the same monitor is running, 503 every handler busy.

Rooms: :mod:`.config` reads ``agent.yaml``, :mod:`.command` runs one restart,
:mod:`.server` answers HTTP and holds the entry points, :mod:`.wire` bounds sockets and
framing, :mod:`.replay` keeps the replay window on disk.
"""

from .command import AgentState, Run, restart_env, run_command
from .config import AgentCommand, AgentConfig, AgentConfigError, load_agent_config
from .server import (
    AgentHandler,
    AgentServer,
    AgentUsageError,
    main,
    parse_listen,
    serve,
)

__all__ = [
    "AgentCommand",
    "AgentConfig",
    "AgentConfigError",
    "AgentHandler",
    "AgentServer",
    "AgentState",
    "AgentUsageError",
    "Run",
    "load_agent_config",
    "main",
    "parse_listen",
    "restart_env",
    "run_command",
    "serve",
]
