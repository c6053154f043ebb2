"""Text: the files a notebook is made of, read and written without knowing what they mean.

Atomic locked writes (`textfile`), documents with front matter and marked regions
(`document`), safe YAML with a line for every key (`safe_yaml`), markdown tables (`tables`),
hub marks and question verdicts (`marks`, `questions`). The bottom stage: it imports nothing
of the engine but `errors`.
"""
