"""The end-to-end tests share the fixtures of tests/conftest.py (moto_endpoint among them)."""
