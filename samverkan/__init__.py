"""Samverkan core: the rules of the domain; imports nothing from Prefect."""
