"""The API's strict numbers: every id, amount and count a request carries is a JSON integer, never read loosely.

Pydantic's lax mode reads JSON `true` as 1, `1.0` as 1 and `"100"` as 100: a client bug (or a probe) would then
open group 1's conversation or fund a campaign with 1 fen.  Request bodies use these aliases, so a wrong type
answers 422 `invalid_request` naming the field.  Path and query parameters arrive as text: there an integer is
plain decimal digits ("1"), never "1.0", "+1", " 1", "1_000", "1e0" or "true" (lax mode takes some of those).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

ID_MAX = 2**62  # ids fit a signed 64-bit column; larger ones are refused as 422, not a database error

# JSON bodies.
Id = Annotated[int, Field(strict=True, ge=1, le=ID_MAX)]
Fen = Annotated[
    int, Field(strict=True, description="Amount in fen (分), an integer: 100 fen = 1 yuan.", examples=[888])
]
Int = Annotated[int, Field(strict=True)]  # counts, caps, weights, seconds: the domain checks their ranges
# A coordinate is a number: an integer is one too, `true` and "1" are not.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]

_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")


def _decimal(value: Any) -> Any:
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value) is None:
            raise PydanticCustomError("int_parsing", "Input should be an integer in decimal digits, like 12")
        return int(value)
    return value


# Path and query parameters: put bounds before it and the FastAPI marker after it, so the OpenAPI document keeps
# `minimum`/`maximum`: `Annotated[int, Field(ge=1, le=100), DIGITS, Query()]`.
DIGITS = BeforeValidator(_decimal)
