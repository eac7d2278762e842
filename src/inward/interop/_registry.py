"""inspect_ai registry entry point: importing this module registers inward's inspect tasks and model API.

pyproject.toml declares it (`[project.entry-points.inspect_ai] inward = "inward.interop._registry"`), so
`inspect eval inward/self_prediction` and `--model inward/<ref>` find them without an import by the user.
"""

from inward.interop.modelapi import inward_api
from inward.interop.task import self_prediction

__all__ = ["inward_api", "self_prediction"]
