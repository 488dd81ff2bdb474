"""Benchmarks of task-engine (see README "Performance")."""
