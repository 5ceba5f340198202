"""One release across a fleet of databases (one database per tenant or shard).

    config   [tool.migrator.fleet]: where the database list comes from (urls, command, query), canary, waves,
             concurrency
    shards   --shard I/N: a stable slice of the fleet by a hash of each database's identity
    waves    the canary, then cumulative percentages of the rest
    runner   a phase (plan, expand, migrate, contract) across the databases through migrator.release.commands,
             with a concurrency limit; a wave stops at its first failure
    status   every ledger read: per-wave and per-database state, with counts

The release commands stay per database: each database keeps its own ledger, lock and state; the fleet layer only
chooses which database runs when, and reads the ledgers to resume.
"""
