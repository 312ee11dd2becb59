"""pytest plugin: fixtures backed by the smsflow sandbox."""
