raise RuntimeError("helpers.py is outside jobs/: nothing imports it")
