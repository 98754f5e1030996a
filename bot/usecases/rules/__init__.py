"""Rules: a bulk command on a schedule (`/cctag every <when> <command>`), run by the worker as
an ordinary request of its creator. `schedule.py` is the pure arithmetic of when."""
