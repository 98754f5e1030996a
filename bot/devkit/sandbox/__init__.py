"""A faithful local Constant Contact (V3 API + OAuth2) with fault injection; see server.py."""
