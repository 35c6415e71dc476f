"""storage: the object store and the archive.

Owns everything that touches S3: the embedded S3 server wrapper (`storage.server`), connections
(`storage.s3`), and the write-once archive with its catalogue. Imports only `motcua.errors` and
`motcua.types` from the project; never `flows`, `extractors` or `signing`.
"""
