"""Undo: the record a change leaves before it starts (`record.py`), and the change that
reverses it, planned from that record and the account as it is now (`reverse.py`)."""
