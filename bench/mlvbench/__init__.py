"""git-mlv's benchmark harness: one library that every scenario uses.

    tools.py      installs the peers, builds git-mlv (release) and puts it first on PATH
    data.py       generated workloads, kept between runs
    measure.py    settle, idle wait, delete-quiet wait, prefault, timing with peak RSS
    servers.py    s3s-fs, nginx WebDAV, fake-gcs-server, Azurite, sshd on loopback, the latency
                  proxy, loopback quickack (gcsfront.py: fake-gcs-server's PUT front)
    report.py     medians, ratios, targets, the table
    scenarios/    one module per scenario: local, remote, git, registry, network, scale,
                  python, backends

Entry point: bench/run.py. Standard library only.
"""
