"""What an experiment is: one module that declares its steps and its analysis, and says which claims it tests.

    @register
    class SelfTraining(Experiment):
        name = "self_training"
        title = "Self-prediction training"

        def steps(self, ctx: Context) -> list[tuple[str, str]]:
            pairs = [(ctx.cfg.model(r), ctx.self_trained(r)) for r in ctx.self_roles()]
            for base, trained in pairs:
                ctx.evaluate(base, base)
                ctx.evaluate(trained, trained)
            return pairs                       # what `analyse` needs (refs, not numbers)

        def analyse(self, ctx: Context, done: list[tuple[str, str]]) -> results.SelfTraining: ...
        def claims(self, section: results.SelfTraining) -> list[Claim]: ...

`steps` runs against a `Context`: every building block it calls (`ctx.evaluate`, `ctx.self_trained`, …) is a
content-addressed, resumable step in the store, and under `inward plan` the same calls are recorded instead of
run, so the plan is the experiment's own declaration, never a copy of it. `analyse` reads the store through
`ctx.readings` (typed reads keyed by model identity) and returns the experiment's results section. `claims`
turns a section into evidence: one `Claim` per comparison the paper makes, which `inward.experiments.evidence`
combines over seeds into the evidence table.

Adding an experiment is adding one module with one `@register`ed class (and importing it in
`inward.experiments.registry`, or anywhere before the config is validated).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

    from inward.experiments.context import Context


@dataclass(frozen=True)
class Claim:
    """One comparison of one seed, oriented so that a positive effect is what the paper claims."""

    key: str  # stable across seeds, e.g. "self_vs_cross:m1"
    claim: str  # the paper's claim in words
    comparison: str  # what against what, on which prompts
    unit: Literal["pp", "mad"]
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    n: int | None
    n_clusters: int | None
    paper: str  # key into inward.metrics.PAPER_EFFECTS
    paper_property: str | None = None
    note: str | None = None

    @classmethod
    def from_test(cls, test: Any, **fields: Any) -> Claim:
        """A claim whose numbers are a paired test's (results.PairedTest, or None when it was not computed):
        diff with its item-clustered interval and p."""
        nums = (
            {"effect": None, "ci_low": None, "ci_high": None, "p": None, "n": None, "n_clusters": None}
            if test is None
            else {
                "effect": test.diff,
                "ci_low": test.cluster_ci_low,
                "ci_high": test.cluster_ci_high,
                "p": test.p_cluster,
                "n": test.n,
                "n_clusters": test.n_clusters,
            }
        )
        return cls(**nums, **fields)


@dataclass(frozen=True)
class Number:
    """A headline number of one seed (reported over seeds as mean, spread and per-seed values)."""

    name: str
    unit: Literal["acc", "mad", "pp"]
    value: float | None


class Experiment(ABC):
    """One experiment: its steps, its analysis and the claims it tests (see the module docstring)."""

    name: ClassVar[str]
    title: ClassVar[str]
    training_dependent: ClassVar[bool] = True  # repeated once per training seed
    extra: ClassVar[bool] = True  # False for the four whose sections are typed fields of `Results`
    after: ClassVar[tuple[str, ...]] = ()  # experiments whose steps should run first (order only)

    @abstractmethod
    def steps(self, ctx: Context) -> Any:
        """Run (or, in a plan, record) the steps; returns what `analyse` needs."""

    @abstractmethod
    def analyse(self, ctx: Context, done: Any) -> BaseModel:
        """The results section, from the store."""

    def claims(self, section: Any) -> list[Claim]:
        """The paper's claims this section tests (none by default)."""
        return []

    def numbers(self, section: Any) -> list[Number]:
        """Headline numbers to report over seeds (none by default)."""
        return []


REGISTRY: dict[str, type[Experiment]] = {}


def register(cls: type[Experiment]) -> type[Experiment]:
    """Class decorator: make an experiment available by its `name` (in the experiment file's `experiments`)."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} has no name")
    REGISTRY[cls.name] = cls
    return cls


@dataclass
class Sections:
    """The sections one seed produced, by experiment name."""

    seed: int
    by_name: dict[str, Any] = field(default_factory=dict)
