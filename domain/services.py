"""The children's social care services a council can contract out to its trust.

A trust's scope of services is a list drawn from this vocabulary, so that two contracts (or a
contract and an Ofsted report) can be compared line by line. The lines follow how councils and
Ofsted's inspection of local authority children's services (ILACS) divide the work.
"""

from __future__ import annotations

from enum import StrEnum


class ServiceLine(StrEnum):
    FRONT_DOOR = "front-door"
    EARLY_HELP = "early-help"
    ASSESSMENT = "assessment"
    CHILD_IN_NEED = "child-in-need"
    CHILD_PROTECTION = "child-protection"
    EDGE_OF_CARE = "edge-of-care"
    CHILDREN_IN_CARE = "children-in-care"
    CARE_LEAVERS = "care-leavers"
    FOSTERING = "fostering"
    ADOPTION = "adoption"
    RESIDENTIAL_CARE = "residential-care"
    DISABLED_CHILDREN = "disabled-children"
    YOUTH_JUSTICE = "youth-justice"
    EMERGENCY_DUTY = "emergency-duty"
    INDEPENDENT_REVIEWING = "independent-reviewing"
    LADO = "lado"

    @property
    def description(self) -> str:
        """The name a commissioner would read in the contract's schedule of services."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ServiceLine.FRONT_DOOR: "Front door and multi-agency safeguarding hub (MASH)",
    ServiceLine.EARLY_HELP: "Early help",
    ServiceLine.ASSESSMENT: "Assessment",
    ServiceLine.CHILD_IN_NEED: "Children in need",
    ServiceLine.CHILD_PROTECTION: "Child protection",
    ServiceLine.EDGE_OF_CARE: "Edge of care",
    ServiceLine.CHILDREN_IN_CARE: "Children in care",
    ServiceLine.CARE_LEAVERS: "Care leavers",
    ServiceLine.FOSTERING: "Fostering",
    ServiceLine.ADOPTION: "Adoption",
    ServiceLine.RESIDENTIAL_CARE: "Residential care",
    ServiceLine.DISABLED_CHILDREN: "Disabled children",
    ServiceLine.YOUTH_JUSTICE: "Youth justice (youth offending service)",
    ServiceLine.EMERGENCY_DUTY: "Emergency duty (out of hours)",
    ServiceLine.INDEPENDENT_REVIEWING: "Independent reviewing officers and conference chairs",
    ServiceLine.LADO: "Local authority designated officer (allegations against staff)",
}
