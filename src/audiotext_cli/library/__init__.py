"""The sound-library layer: metadata read at embed time, UCS categories, near-duplicates,
exports and zero-shot tags (docs/library.md)."""
