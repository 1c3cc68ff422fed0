"""Frozen pretrained audio towers: front end + network, and their per-file feature cache.

A tower turns a waveform at its own rate into block embeddings (`embed_blocks`); the
trainable audio head sits on top of them in `models/`. Features are cached per
(file content, tower) in `cache.py`, so training, evaluation and library indexing compute
each file once.
"""
