"""What the tests share: worlds, rigs and helpers, imported by name from here.

Conftests hold fixtures only; a fixture builds its world with these, and a test that needs a
helper imports it from its module here, never from a conftest.
"""
