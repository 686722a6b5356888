"""Evaluate a saved RecBole/m2rec checkpoint on its dataset's test split, with RecBole's evaluator.

    python scripts/evaluate_checkpoint.py saved/M2Rec-Nov-22-2026_11-30-00.pth [--data_path DIR] [--text_cache FILE]

Use it when a run was stopped before its own final evaluation: the checkpoint holds the best
validation epoch so far. Only load checkpoints you trust (they are pickles).
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from recbole.utils import get_trainer  # noqa: E402

from m2rec.analysis import load_checkpoint  # noqa: E402


def evaluate(path: str, overrides: dict) -> dict:
    trained = load_checkpoint(path, overrides=overrides)
    config = trained.config
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, trained.model)
    return {"checkpoint": path, "model": config["model"], "dataset": config["dataset"],
            "best_epoch": trained.epoch, "test": dict(trainer.evaluate(trained.data.test, load_best_model=False))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data_path", help="the dataset's folder (<data path>/<dataset>), if it moved since training")
    parser.add_argument("--text_cache", help="the item-text embedding cache, if it moved since training")
    args = parser.parse_args()
    overrides = {key: value for key, value in (("data_path", args.data_path), ("text_cache", args.text_cache)) if value}
    print(json.dumps(evaluate(args.checkpoint, overrides)))


if __name__ == "__main__":
    main()
