"""What the dashboard shows, as plain data: pure functions of (definition, state, time), no Prefect."""
