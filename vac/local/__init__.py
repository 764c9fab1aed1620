"""The local stack: a real single-node (or 3-node) Kafka and Elasticsearch on this machine.

Both come from Maven Central as jars and a zip, run from a cache, and keep their data, logs
and pids in a state dir. `stack.LocalStack` is the entry point; the CLI's `vac local` and
the tests' session fixture drive it.
"""
