"""Undo: the record a change leaves before it starts (`record.py`), and the change that
reverses it, planned from that record and the account as it is now (`reverse.py`)."""

# The action id of the `Undo` button under a change's end (its value: the activity or job id).
UNDO_BUTTON = "undo_change"
