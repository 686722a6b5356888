"""Evaluate a saved RecBole/m2rec checkpoint on its dataset's test (and valid) split.

    python scripts/evaluate_checkpoint.py saved/M2Rec-Nov-22-2026_11-30-00.pth [--data_path DIR] [--text_cache FILE]

Use it when a run was stopped before its own final evaluation: the checkpoint holds the best
validation epoch so far. Only load checkpoints you trust (they are pickles: weights_only=False).
"""
import argparse
import json

import torch

from m2rec.runner import resolve_model


def evaluate(path: str, overrides: dict) -> dict:
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_trainer, init_seed

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    config = checkpoint["config"]
    for key, value in overrides.items():
        config[key] = value
    config["device"] = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    init_seed(config["seed"], config["reproducibility"])
    _, valid_data, test_data = data_preparation(config, create_dataset(config))
    model = resolve_model(config["model"])(config, test_data._dataset).to(config["device"])
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    return {"checkpoint": path, "model": config["model"], "dataset": config["dataset"],
            "best_epoch": checkpoint["epoch"], "best_valid_score": float(checkpoint["best_valid_score"]),
            "valid": dict(trainer.evaluate(valid_data, load_best_model=False)),
            "test": dict(trainer.evaluate(test_data, load_best_model=False))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data_path", help="folder holding <dataset>/ (if it moved since training)")
    parser.add_argument("--text_cache", help="item-text embedding cache (if it moved since training)")
    args = parser.parse_args()
    overrides = {k: v for k, v in (("text_cache", args.text_cache),) if v}
    if args.data_path:
        overrides["data_path"] = args.data_path
    print(json.dumps(evaluate(args.checkpoint, overrides)))


if __name__ == "__main__":
    main()
