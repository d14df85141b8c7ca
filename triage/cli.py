"""``python -m triage``: train the bundle, classify JSON lines, evaluate a labelled CSV.

Why a CLI: operators retrain after staff corrections accumulate (``train --with-feedback``),
batch-classify exports, and check the generic pipeline on their own labelled data (``eval``)
without writing Python. Output is JSON (one object per line) so it composes with shell tools.

Commands:
  train    [--data DIR] [--out DIR] [--with-feedback [PATH] | --feedback FILE] [--heldout FILE]
           (--feedback: sealed staff corrections; their key is read from stdin)
  classify [--artifacts DIR]   (stdin: {"id":…, "text":…} per line; stdout: one JSON per line)
  eval     --data FILE.csv --text-col COL --label-col COL [--folds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from triage.data import DATA_DIR, feedback_path, load_corpus, load_records, load_taxonomy, merge_feedback

CLASSIFY_KEYS = (
    "id", "department", "confidence", "alternatives", "sector", "report_type", "urgency",
    "urgency_score", "reasons", "standard_matches", "town", "enterprise", "needs_review",
)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    from triage import model as model_mod  # noqa: PLC0415
    from triage.evaluate import heldout_scores  # noqa: PLC0415
    from triage.routing import Triager, reset  # noqa: PLC0415

    data_dir = Path(args.data)
    records = load_corpus(data_dir)
    print(f"corpus: {len(records)} records from {data_dir / 'corpus'}")
    fb_arg = args.feedback if args.feedback is not None else args.with_feedback
    if fb_arg is not None:
        from triage.feedback import FeedbackKeyError, load_feedback, parse_key  # noqa: PLC0415

        fb_path = Path(fb_arg) if fb_arg else feedback_path()
        try:  # a sealed file's key comes on stdin (one hex line), never as an argument
            fb = load_feedback(fb_path, read_key=lambda: parse_key(sys.stdin.readline()))
        except FeedbackKeyError as exc:
            _err(f"cannot open feedback {fb_path}: {exc}")
            return 2
        records = merge_feedback(records, fb)
        print(f"feedback: {len(fb)} records from {fb_path} (total {len(records)}; vocabulary from the corpus only)")
    if not records:
        _err("no training records found")
        return 2
    t0 = time.time()
    art = model_mod.train(records, load_taxonomy(), log=print)
    out = model_mod.save(art, args.out)
    print(f"built {out} (model_version {art.model_version}, strategy {art.department_strategy}, "
          f"review_threshold {art.review_threshold}) in {time.time() - t0:.1f}s")
    heldout = Path(args.heldout) if args.heldout else data_dir / "heldout" / "heldout.jsonl"
    if heldout.exists():
        recs = load_records([heldout])
        tri = Triager(art, with_standards=False)
        results = tri.classify_batch([r["text"] for r in recs])
        scores = heldout_scores(results, recs)
        print(f"held-out ({heldout}, {len(recs)} reports):")
        for k, v in scores.items():
            print(f"  {k:30s} {v}")
    else:
        print(f"no held-out file at {heldout}")
    reset()
    return 0


def _jsonable(value: Any) -> Any:
    from dataclasses import asdict, is_dataclass  # noqa: PLC0415

    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def cmd_classify(args: argparse.Namespace) -> int:
    from triage.routing import Triager, reset, route  # noqa: PLC0415

    if args.artifacts:
        try:
            reset(Triager.load(args.artifacts))
        except Exception as exc:  # noqa: BLE001 - fall back to route()'s review behaviour
            _err(f"cannot load artifacts from {args.artifacts}: {exc}")
    out = sys.stdout
    for lineno, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("line is not a JSON object")
            text = obj.get("text")
            if not isinstance(text, str):
                raise ValueError("missing string field 'text'")
        except (ValueError, json.JSONDecodeError) as exc:
            rid = None
            try:
                rid = json.loads(line).get("id")  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001
                pass
            out.write(json.dumps({"id": rid, "error": str(exc), "line": lineno}, ensure_ascii=False) + "\n")
            out.flush()
            continue
        res = route(text, town=obj.get("town"), enterprise=obj.get("enterprise"))
        d = res.to_dict()
        row = {"id": obj.get("id")}
        for k in CLASSIFY_KEYS[1:]:
            row[k] = _jsonable(d.get(k))
        row["town_code"] = d.get("town_code")
        row["model_version"] = d.get("model_version")
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from triage.evaluate import EVAL_NGRAM_GRID, kfold_eval, print_eval, read_labelled_csv  # noqa: PLC0415

    try:
        texts, labels = read_labelled_csv(args.data, args.text_col, args.label_col)
    except (OSError, ValueError) as exc:
        _err(f"cannot read {args.data}: {exc}")
        return 2
    if len(set(labels)) < 2:
        _err("need at least two classes")
        return 2
    _err(f"eval: {len(texts)} rows, {len(set(labels))} classes, {args.folds} folds")
    outcome = kfold_eval(texts, labels, folds=args.folds, log=sys.stderr, ngram_grid=EVAL_NGRAM_GRID)
    print_eval(outcome, args.folds)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m triage", description="Safety-report triage")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="build the artifact bundle from data/ and print held-out scores")
    t.add_argument("--data", default=str(DATA_DIR), help="data directory (corpus/*.jsonl, heldout/)")
    t.add_argument("--out", default=None, help="artifact directory (default $TRIAGE_ARTIFACTS or instance/triage)")
    t.add_argument(
        "--with-feedback", nargs="?", const="", default=None, metavar="PATH",
        help="add feedback: sealed files (key on stdin) or hand-written JSONL; default $TRIAGE_FEEDBACK or data/feedback",
    )
    t.add_argument(
        "--feedback", default=None, metavar="FILE",
        help="sealed feedback file from `python -m portal triage-feedback --out FILE` (key on stdin)",
    )
    t.add_argument("--heldout", default=None, help="held-out JSONL (default <data>/heldout/heldout.jsonl)")
    t.set_defaults(func=cmd_train)
    c = sub.add_parser("classify", help="JSON lines {id,text} on stdin → one JSON result per line")
    c.add_argument("--artifacts", default=None, help="artifact directory (default $TRIAGE_ARTIFACTS)")
    c.set_defaults(func=cmd_classify)
    e = sub.add_parser("eval", help="stratified k-fold of the text pipeline on a labelled CSV")
    e.add_argument("--data", required=True, help="CSV (or .tsv) file with a header row")
    e.add_argument("--text-col", required=True)
    e.add_argument("--label-col", required=True)
    e.add_argument("--folds", type=int, default=5)
    e.set_defaults(func=cmd_eval)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
