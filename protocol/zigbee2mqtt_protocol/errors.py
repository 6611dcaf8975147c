"""One rejection type for every piece of input that cannot be used, with its reason."""

from enum import StrEnum
import re

# The Linky's serial number (ADSC, or ADCO in historic mode) and delivery point (PRM) identify a
# household: neither may reach logs or diagnostics, even inside an excerpt of a refused payload.
IDENTITY_PROPERTIES = frozenset({"meter_serial_number", "site_id"})
REDACTED = "**REDACTED**"
_IDENTITY_VALUE = re.compile(
    rf"(?P<key>{'|'.join(sorted(IDENTITY_PROPERTIES))})(?P<sep>['\"]?\s*[:=]\s*['\"]?)[^'\",}}\s]*"
)
_IDENTITY_NUMBER = re.compile(r"\b\d{12,14}\b")  # a serial (12 digits) or PRM (14) on its own


class Rejection(StrEnum):
    """Why a piece of input was not used (consumers count them)."""

    NOT_JSON = "not_json"
    TOO_LARGE = "too_large"
    NOT_AN_OBJECT = "not_an_object"
    BAD_DISCOVERY_CONFIG = "bad_discovery_config"
    BAD_BRIDGE_DEVICE = "bad_bridge_device"
    BAD_AVAILABILITY = "bad_availability"
    BAD_EVENT = "bad_event"
    NUMBER_AS_STRING = "number_as_string"
    NOT_A_NUMBER = "not_a_number"
    NOT_FINITE = "not_finite"
    NEGATIVE_VALUE = "negative_value"
    ABSURD_VALUE = "absurd_value"
    NO_DATA = "no_data"
    CONTRACT_OUT_OF_RANGE = "contract_out_of_range"
    COUNTER_BACKWARDS = "counter_backwards"
    UNKNOWN_PROPERTY = "unknown_property"
    BAD_FRIENDLY_NAME = "bad_friendly_name"


class RejectedInputError(ValueError):
    """Input that cannot be used, with the reason it is counted under."""

    def __init__(self, reason: Rejection, detail: str) -> None:
        """Keep the reason apart from the human detail, the meter's identity redacted."""
        detail = redacted(detail)
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def redacted(text: str) -> str:
    """Text (an excerpt of a payload) without the meter's serial number or delivery point."""
    text = _IDENTITY_VALUE.sub(rf"\g<key>\g<sep>{REDACTED}", text)
    return _IDENTITY_NUMBER.sub(REDACTED, text)
