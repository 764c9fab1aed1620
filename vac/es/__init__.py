"""Everything that talks to Elasticsearch: the client, health, index templates, searches."""
