"""`python -m sstc_assistant.cli`, the same as `sstc`."""

import sys

from . import main

sys.exit(main())
