"""Render: results → the words, tables and figures of a report (nothing is trained here).

Statistics (`confidence`, `binned`, `repeats`, `predictions`), decisions and their verdicts,
observations, figures, live numbers in prose, and the jinja2 `templates`. It reads run
records from `notebook` and never imports `run`, so a report re-renders without training.
"""
