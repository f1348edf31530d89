"""The engine: one pass of a status page as named steps, in the order data flows.

    loading      config, history and states, tracker, maintenance notices
    probing      the due monitors, concurrently, with deadlines, retries and the canary
    recording    maintenance marking, then append to the history
    tracking     the status machine's transitions, carried to the incident tracker
    notifying    each transition to the Apprise targets that want it
    recovering   restart hooks, and each restarted service verified on its own
    publishing   the static site

``engine.Engine`` holds the moving parts in memory and runs a tick (probe, record, step, act) for
the monitors due; ``main_job`` builds ``statusgen check/probe/merge/run/build`` from the steps;
``shard`` splits a run across runners and merges the pieces.
"""
