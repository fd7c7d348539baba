"""How DfE and the ONS name an English local authority: the keys of every public data set."""

from __future__ import annotations

import re

from domain.errors import InvalidOrganisation

# DfE's three-digit local authority number (e.g. 886 for Kent) and the ONS GSS code of an
# English local authority ("E" then eight digits, e.g. E10000016). [0-9] rather than \d,
# which would also accept non-ASCII digits.
_LA_NUMBER = re.compile(r"[0-9]{3}")
_ONS_CODE = re.compile(r"E[0-9]{8}")


def check_council_codes(la_number: str | None, ons_code: str | None) -> None:
    if la_number is None or not _LA_NUMBER.fullmatch(la_number):
        raise InvalidOrganisation(f"a council's DfE LA number is three digits, not {la_number!r}")
    if ons_code is None or not _ONS_CODE.fullmatch(ons_code):
        raise InvalidOrganisation(f"a council's ONS code is E and eight digits, not {ons_code!r}")
