"""How every benchmark reports: a figure beside the baseline measured in the same run, as a
ratio, printed as a table and kept in var/bench/results.json for comparison across runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path("var/bench/results.json")


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    # What the ratio must reach (None: printed for information). For units where less is
    # better (ms), the ratio is baseline / value, so that above 1 always means faster.
    target: float | None = None
    lower_is_better: bool = False

    @property
    def ratio(self) -> float:
        if self.lower_is_better:
            return self.baseline_value / self.value if self.value else float("inf")
        return self.value / self.baseline_value if self.baseline_value else float("inf")

    @property
    def target_met(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target

    def row(self) -> dict[str, object]:
        row = asdict(self)
        del row["lower_is_better"]
        row.update(ratio=round(self.ratio, 3), target_met=self.target_met)
        return row


def report(results: list[Result]) -> None:
    """Print the table, and replace these results' rows in var/bench/results.json."""
    width = max(len(r.name) for r in results)
    base = max(len(r.baseline_name) for r in results)
    print(
        f"{'measure':<{width}}  {'value':>12}  {'baseline':<{base}}  {'value':>12}  ratio  target"
    )
    for r in results:
        target = (
            "" if r.target is None else f">= {r.target:g}x {'met' if r.target_met else 'MISSED'}"
        )
        print(
            f"{r.name:<{width}}  {r.value:>9.3g} {r.unit:<8}  {r.baseline_name:<{base}}  "
            f"{r.baseline_value:>9.3g} {r.unit:<8}  {r.ratio:5.2f}  {target}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    names = {r.name for r in results}
    rows = [row for row in kept if row.get("name") not in names] + [r.row() for r in results]
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")
