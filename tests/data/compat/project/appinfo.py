"""Stands for the app's models module that env.py imports."""

TREE = "unset"
