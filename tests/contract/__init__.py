"""Contract checks: the SDK's requests and the sandbox's answers held to spec/openapi.yaml."""
