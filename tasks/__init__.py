"""Prefect tasks: the units of work the flows compose (load state, apply a transition,
deliver a notice). Each calls the core in `samverkan/` and holds no rule of its own."""
