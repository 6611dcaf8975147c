"""The one shape of an engine's refusal: why (a translation key) and a message for the user.

Pure module (no Home Assistant import). Each engine names its own refusal with its own reasons
(`SheddingError`, `SchedulingError`); the actions turn `reason` into a translated message.
"""

from enum import StrEnum


class RefusedError[Reason: StrEnum](ValueError):
    """A request an engine refuses, with the reason and a message for the user."""

    def __init__(self, reason: Reason, message: str) -> None:
        """`message` in English, for logs; `reason` is the user's translated message's key."""
        super().__init__(message)
        self.reason = reason
