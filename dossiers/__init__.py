"""dossiers: the one-stop-shop office's domain rules for a dossier (hồ sơ thủ tục hành chính).

Owns the procedure catalogue (YAML data), the working-day calendar and due dates, dossier codes
(Circular 01/2018/TT-VPCP Art. 19), the dossier register (SQLAlchemy tables prefixed `dossier_`)
with the status lifecycle and the on-time report, and the PDF forms of Circular 01/2018 plus the
result documents. Imports only `motcua.errors` and `motcua.types` from the project; never
`flows`, `extractors`, `signing` or `storage`. Functions take plain arguments (a database URL or
engine, a unit code, an office name), never the `Settings` object.
"""

from __future__ import annotations
