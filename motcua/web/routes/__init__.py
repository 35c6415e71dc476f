"""Routers per area; each module exposes `pages` (HTML, Vietnamese) and `api` (JSON, /api/v1)."""
