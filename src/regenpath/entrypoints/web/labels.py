"""The product label's barcode, drawn by python-barcode (Code 128) as an SVG image."""

from __future__ import annotations

import io

from barcode import Code128
from barcode.writer import SVGWriter

from regenpath.domain.isbt128 import Din
from regenpath.entrypoints.web.rendering import svg_image

# ISBT 128 ST-001: the DIN data structure is "=" + the 13-character DIN + two flag characters;
# "00" is the flag for "no flag in use". The check character is printed, never encoded (ISBT-2).
DIN_DATA_IDENTIFIER = "="
NO_FLAGS = "00"


def din_barcode_data(din: Din) -> str:
    """The DIN data structure a scanner reads back (ISBT-1)."""
    return f"{DIN_DATA_IDENTIFIER}{din.code}{NO_FLAGS}"


def din_barcode_svg(din: Din) -> bytes:
    buffer = io.BytesIO()
    Code128(din_barcode_data(din), writer=SVGWriter()).write(
        buffer, options={"write_text": False, "module_height": 12.0, "quiet_zone": 4.0}
    )
    return buffer.getvalue()


def din_barcode_image(din: Din) -> str:
    return svg_image(din_barcode_svg(din))
