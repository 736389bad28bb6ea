"""Tests that cross the apps: the command line, the servers and the job queue."""
