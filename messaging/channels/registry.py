"""The explicit map of channel names to the classes that deliver them."""

from __future__ import annotations

from messaging.channels import Transports
from settings import Settings


def attach_configured(transports: Transports, settings: Settings) -> None:
    """Give `transports` a real provider for each channel whose credentials are set."""
    # SMS (Twilio) and Telegram attach here once their modules exist; without
    # credentials the console stands in, as DESIGN.md promises.
    del settings
