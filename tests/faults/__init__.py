"""Reliability tests against the real loopback sandbox server: the fault matrix and the soak."""
