"""Open-data exports: the public datasets and aggregates a city publishes, through a privacy review gate."""
