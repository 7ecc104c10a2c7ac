"""Shared analysis: the pure numerics that the senses, the diagnostician and the hands
all reason with.

Owns robust statistics and change points (`stats`), what a series *is* and in which
direction it hurts (`kinds`), the call graph's reachability (`topology`), node
slowdown (`nodes`) and the robust root-cause scorer (`scoring`). Everything here is a
pure function of arrays and plain data: it does no I/O, knows nothing of workflows,
the store or any adapter, and is used by `signals`, `diagnosis` and `bench` alike, so
one method serves the live loop and the offline benchmark.
"""
