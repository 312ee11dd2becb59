"""Tests of smsflow.testing, the local SMSFlow sandbox."""
