"""Training: precomputed log-mel windows, the loop, its schedule, resume and DDP."""
