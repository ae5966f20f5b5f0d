"""Flips that wait for proof: a dated phase whose evidence is missing is held, not flipped.

- :mod:`gateway.gates.schema`: the ``requires:`` of a phase and the table's ``evidence:`` defaults;
- :mod:`gateway.gates.rules`: each route's gates, compiled once per table (and ``check``'s errors);
- :mod:`gateway.gates.evidence`: the counts (shadow comparisons, canary requests per side) and
  whether they meet a gate;
- :mod:`gateway.gates.holds`: the precomputed holds the decider reads (one dict lookup);
- :mod:`gateway.gates.store` / :mod:`gateway.gates.redis_store`: where counts and opened gates live
  (memory, the state directory, Redis), shared by every process and replica;
- :mod:`gateway.gates.keeper`: counts in batches, opens gates when their evidence is in, releases.
"""
