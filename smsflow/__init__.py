"""smsflow."""
