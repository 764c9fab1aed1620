"""Searching the log indices: what `vac query` and the dashboard's log screen ask Elasticsearch."""
