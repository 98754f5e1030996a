from tests.connect.conftest import h

__all__ = ["h"]
