"""`vac probe latency`: end-to-end delay and throughput of the pipeline, measured open-loop."""
