"""Looking at a notebook: the Python API (`api.Notebook`), views, status, digest and check.

Read-only: nothing here trains or writes a report.
"""
