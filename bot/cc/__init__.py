"""Constant Contact V3: schema models, errors, and the HTTP client."""
