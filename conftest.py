# The kata's pytest machinery lives in kata/pytest_plugin.py; this file only switches it on.
pytest_plugins = ["kata.pytest_plugin"]
