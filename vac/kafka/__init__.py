"""Everything that talks to Kafka: client configuration, admin calls, producers, consumers."""
