"""Deadline notices: Swedish templates and their delivery by e-mail through the outbox."""
