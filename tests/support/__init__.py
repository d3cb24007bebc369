"""Shared test support: helpers, corpora, clusters and builds the tests and scripts/ use (not tests themselves)."""
