"""inward: measure and train introspection (self-prediction) in language models.

Implements Binder et al. 2024, "Looking Inward: Language Models Can Learn About Themselves by Introspection".
"""

from __future__ import annotations

__version__ = "0.1.0"
