"""Validation reports a person can act on: focus node, path, value and message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, order=True)
class Violation:
    focus: str
    path: str | None
    value: str | None
    message: str
    component: str  # the SHACL constraint component, e.g. sh:MinCountConstraintComponent
    shape: str
    severity: str = "Violation"

    def key(self) -> tuple[str, str | None, str]:
        """What two validators must agree on: focus node, path and constraint component."""
        return (self.focus, self.path, self.component)


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    focus_nodes: int = 0
    engine: str = "sparql"

    @property
    def conforms(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        return {
            "conforms": self.conforms,
            "engine": self.engine,
            "focus_nodes": self.focus_nodes,
            "violations": [asdict(v) for v in sorted(self.violations)],
        }

    def summary(self, limit: int = 20) -> str:
        if self.conforms:
            return "conforms"
        lines = [f"{len(self.violations)} violation(s):"]
        for v in sorted(self.violations)[:limit]:
            value = f" value={v.value}" if v.value is not None else ""
            path = f" path={v.path}" if v.path else ""
            lines.append(f"- focus={v.focus}{path}{value}: {v.message}")
        if len(self.violations) > limit:
            lines.append(f"… and {len(self.violations) - limit} more")
        return "\n".join(lines)
