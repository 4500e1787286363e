"""The QA benchmark, same arguments as `sstc eval` (e.g. `python eval/run_benchmark.py --index eval`)."""

import sys

from sstc_assistant.cli import main

if __name__ == "__main__":
    sys.exit(main(["eval", *sys.argv[1:]]))
