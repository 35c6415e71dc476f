"""motcua.web: the web application and REST API for clerks, leaders, archivists and the e-office
system (FastAPI, server-rendered Vietnamese pages, OpenAPI at `/openapi.json`).

`create_app(settings)` in `motcua.web.app` builds the application. The modules below it are
usable without FastAPI: `audit` (the hash-chained audit log other layers append to), `accounts`
(users with argon2 hashes, API tokens), `permissions` (roles and the declared role matrix),
`uploads` (size and content-type checks), `webhooks` (signed events to the e-office system).
Imports the `dossiers` library and `motcua` modules; the libraries never import this package.
This file imports nothing heavy so that `motcua.web.audit` stays cheap to import.
"""

from __future__ import annotations
