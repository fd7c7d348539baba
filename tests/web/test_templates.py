"""Every template compiles, so that an error page never fails for want of its own template."""

from __future__ import annotations

import pytest

from api.web.templating import TEMPLATES, templates


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_the_template_compiles(name: str) -> None:
    assert templates.env.get_template(name) is not None
