"""``python -m coverage.cli``: the same as the ``station-coverage`` command."""

import sys

try:
    from coverage.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still importing
    sys.exit(130)

sys.exit(main())
