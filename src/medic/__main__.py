"""`python -m medic` is `medic`."""

from medic.cli import main

main()
