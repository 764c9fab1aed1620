"""The records that cross package boundaries, below everything that makes, sends or shows
them: a SCADA value change, a DPE, the status bits, bad-input counts, what a change source
is, and a log record with the Elasticsearch document it becomes. Plain data and pure
functions: no I/O, no clients, nothing of vac above `errors` and `printable`."""
