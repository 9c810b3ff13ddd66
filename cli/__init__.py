"""The `rag` command line: the top of the house, above `rag/`, `service/` and `eval/`."""
