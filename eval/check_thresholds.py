"""Fail (exit 1) when a benchmark figure drops below the floor the team set from measured figures.

python eval/check_thresholds.py out/ci-eval/metrics.json [eval/thresholds.json] [SECTION]

SECTION is the set of floors to apply: `floors` (eval/questions.jsonl, the default) or
`test_floors` (the test split of the generated set, eval/generated/test.jsonl).
"""

import json
import sys
from pathlib import Path


def main() -> int:
    metrics = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    floors_path = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name("thresholds.json")
    section = sys.argv[3] if len(sys.argv) > 3 else "floors"
    floors = json.loads(floors_path.read_text(encoding="utf-8"))[section]
    failed = []
    for key, floor in floors.items():
        value = metrics.get(key)
        ok = value is not None and value >= floor
        print(f"{'ok  ' if ok else 'FAIL'} {key:<34} {value!s:>8}  (floor {floor})")
        if not ok:
            failed.append(key)
    if failed:
        print(f"benchmark below its floor: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
