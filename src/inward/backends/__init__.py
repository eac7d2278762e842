"""Backends: local transformers (CPU/GPU), OpenAI-compatible HTTP servers, Anthropic."""

from inward.backends.base import Backend, Distribution, GenerateConfig, Generation, Messages
from inward.backends.registry import backend, make_backend

__all__ = ["Backend", "Distribution", "GenerateConfig", "Generation", "Messages", "backend", "make_backend"]
