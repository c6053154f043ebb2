"""The notebook: where things are and what is stored, never how they are computed.

Paths and the notebook's config, the catalog of reports (`experiments`), the one `Report`,
run records, the run store and its cache, staleness and locks. It reads and writes
`text`; it never imports `run` or `render`, so every command that only looks at a notebook
loads neither training nor plotting.
"""
