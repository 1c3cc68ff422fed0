"""`python -m audiotext_cli ...` (also what `torchrun -m audiotext_cli train ...` runs)."""

from audiotext_cli.cli import main

main()
