"""Inference models, one class per task, and the per-worker registry that loads them once."""
