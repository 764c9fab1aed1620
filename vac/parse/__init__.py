"""Turning raw log lines into records: multi-line joining and per-format parsers."""
