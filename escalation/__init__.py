"""Unhappy customers in front of a human: opening escalations, rep commands, alerts and SLAs."""
