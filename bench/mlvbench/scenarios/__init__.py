"""One module per scenario. Each has DEFAULTS (options that differ from run.py's common
ones), TOOLS (what to install), run(bench, cfg, meta) which prepares and times, rows(meta)
which says what the report shows, and optionally extra_checks(runs, meta) (more target lines) and details(runs, meta)
(printed after the table)."""

from . import backends, git, local, network, python, registry, remote, scale

SCENARIOS = {"local": local, "remote": remote, "git": git, "registry": registry, "network": network,
             "scale": scale, "python": python, "backends": backends}
