"""motcua: the application package, the composition root of the pipeline.

Owns the CLI (`motcua.cli`), settings (`motcua.settings`), shared domain types (`motcua.types`)
and the error hierarchy (`motcua.errors`). `motcua.errors` and `motcua.types` import nothing else
from the project, so the libraries (`extractors`, `signing`, `storage`) may use them; everything
else here may import the libraries and `flows`, never the other way round.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("motcua")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
