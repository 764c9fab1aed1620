"""Timelines read from Kafka and Elasticsearch (`gather`); the merge itself is `vac.alarms.timeline`."""
