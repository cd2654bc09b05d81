"""``python -m hts_z2.cli``: the ``hts-z2`` command."""

from hts_z2.cli.app import main

main()
