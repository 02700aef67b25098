"""Notices: what is sent to whom and when (the core model; rendering lives in samverkan.notifications)."""
