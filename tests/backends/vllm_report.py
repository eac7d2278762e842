"""Figures the real-vLLM test reports (start-up, agreement, adapter effect, distributions, resume): collected
here and printed in pytest's terminal summary by tests/backends/conftest.py, so that CI's log shows them."""

LINES: list[str] = []
