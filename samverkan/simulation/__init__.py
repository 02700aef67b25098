"""Simulated time: a process run forward by a scenario, in memory (runs, forecasts) or with
a store, its sweeps and real e-mail (the timeline)."""
