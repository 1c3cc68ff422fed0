"""audiotext: audio-text embedding, retrieval and embedding-space analysis.

The library is the API; the `audiotext` command is a thin layer over it.
Heavy modules (torch, faiss) are imported by the submodules that need them, so
`import audiotext_cli` and `audiotext --help` stay fast.
"""

__version__ = "0.1.0"
