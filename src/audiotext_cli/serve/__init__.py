"""`audiotext serve`: a local web page and JSON API over one index (docs/serve.md).

Importing this package imports FastAPI but not the model; `create_app` loads the index and
its model once.
"""

from audiotext_cli.serve.app import Limits, create_app

__all__ = ["Limits", "create_app"]
