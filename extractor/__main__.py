"""`python -m extractor` is the `extractor` command, for a venv whose scripts folder is not on PATH."""

import sys

from extractor.cli import main

sys.exit(main())
