"""`python -m netplanet` runs the CLI."""

from netplanet.cli import main

main()
