"""A run, in the order it happens: plan → validate → execute → the end of a run.

`plan` turns a report's spec into trials and their cache keys (`fingerprint`, `sources`),
`validate` finds every problem before anything trains, `executors` and `trial` train,
`reproduce` measures the training noise, and `transaction` writes the report, its pages
and the commit (`provenance`) as one step that either happens whole or not at all.
"""
