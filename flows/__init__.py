"""Prefect flows: the timeline of a process instance, composed of tasks. A thin shell around
the core in `samverkan/`; flows decide nothing the core does not."""
