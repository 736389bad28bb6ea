"""Tests of the demo company generator and loader."""
