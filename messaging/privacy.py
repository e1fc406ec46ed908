"""What logs may say about a person: enough to tell two apart, never the whole number."""

from __future__ import annotations


def masked(address: str) -> str:
    """A phone number or chat id with its middle hidden: "+48601234501" -> "+48 *** *** 501"."""
    digits = address.lstrip("+")
    if len(digits) < 7:
        return "***"
    shown_start = ("+" if address.startswith("+") else "") + digits[:2]
    return f"{shown_start} *** *** {digits[-3:]}"
