"""Evaluation: cross-modal retrieval and zero-shot classification, each with its chance level."""
