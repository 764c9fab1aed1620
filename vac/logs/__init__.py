"""The log pipeline: tailing files (`vac ship logs`) and indexing them (`vac index`)."""
