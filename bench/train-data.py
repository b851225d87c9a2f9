#!/usr/bin/env python3
"""Writes a synthetic {"text"} JSONL for training-throughput runs (random words; the content does not matter for speed)."""
import json, random, sys
random.seed(1)
words = "the a of to and in is it that for on with as was by at be this from or an are not have which one".split()
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 4000):
        f.write(json.dumps({"text": " ".join(random.choice(words) for _ in range(random.randint(40, 200)))}) + "\n")
