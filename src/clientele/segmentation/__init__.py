"""Grading and classification of customers by value: definitions, the engine, runs, snapshots and transitions."""
