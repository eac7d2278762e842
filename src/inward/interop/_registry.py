"""inspect_ai registry entry point: importing this module registers inward's inspect tasks and model API."""
