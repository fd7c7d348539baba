"""What every request body shares: no unknown fields, trimmed text, bounded sizes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Strict: money is whole pence, so JSON's 1.0 or true is refused rather than read as a number.
Pence = Annotated[int, Field(strict=True)]
PositivePence = Annotated[int, Field(strict=True, gt=0)]
NonNegativePence = Annotated[int, Field(strict=True, ge=0)]

# Sizes a client may send, never empty and never unbounded; what a text must say, and whether
# a year or period exists, are the domain's rules.
Name = Annotated[str, Field(min_length=1, max_length=300)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]
Label = Annotated[str, Field(min_length=1, max_length=20, description='e.g. "2018-19" or "Q3"')]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Reason(Body):
    reason: Text
