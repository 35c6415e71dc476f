"""flows: the only package that knows the order of things.

Composes `extractors`, `signing` and `storage` into Prefect 3 flows (retries, caching,
concurrency) and holds no business logic of its own. `flows.runtime` prepares Prefect (embedded
ephemeral API by default, or a configured server) before anything imports it.
"""
