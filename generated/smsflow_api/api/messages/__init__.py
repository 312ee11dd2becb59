"""Contains endpoint functions for accessing the API

``ROUTES`` maps each operation of this tag to its HTTP method (upper case) and path, as the
spec declares them (written by spec/templates/endpoint_init.py.jinja).
"""

ROUTES: dict[str, tuple[str, str]] = {
    "send_messages": ("POST", "/api/integration/BulkMessages"),
}
