"""The HTTP API: one framework-independent request-to-response layer (core.api.app)
and thin adapters (WSGI for `taskengine api`; API Gateway and Chalice later)."""
