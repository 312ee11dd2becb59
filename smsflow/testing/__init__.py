"""A local SMSFlow sandbox for tests and demos."""
