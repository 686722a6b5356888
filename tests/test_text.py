"""Tests for m2rec.text: item-text embedding cache (paper Sec. III-C)."""
from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from m2rec import text
from m2rec.text import TextCacheMismatch

HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\n"
ROWS = [
    "i1\tToy Story\t1995\tAnimation Children's Comedy\n",
    "i2\tGoldenEye\t1995\tAction Adventure Thriller\n",
    "i3\tFour Rooms\t\tThriller\n",
    "i4\t\t\t\n",
    "i5\tCopycat\t1995\tCrime Drama Thriller\n",
]
FIELDS = ["movie_title", "genre"]


class FakeEncoder:
    """Deterministic encoder: each text's vector comes from the sha256 of the text."""

    name = "fake-8"

    def __init__(self, dim: int = 8):
        self.dim = dim
        self.batches: list[list[str]] = []

    def vector(self, sentence: str) -> np.ndarray:
        digest = hashlib.sha256(sentence.encode("utf-8")).digest()
        return np.frombuffer(digest[: self.dim], dtype=np.uint8).astype(np.float32) - 127.5

    def encode(self, sentences: list[str], batch_size: int) -> np.ndarray:
        self.batches.append(list(sentences))
        return np.stack([self.vector(s) for s in sentences])  # (n, dim)


def expected_row(encoder: FakeEncoder, sentence: str) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.from_numpy(encoder.vector(sentence)), dim=0)


def write_items(path: Path, rows: list[str] = ROWS, header: str = HEADER) -> Path:
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


@pytest.fixture
def item_file(tmp_path: Path) -> Path:
    return write_items(tmp_path / "toy.item")


@pytest.fixture
def cache(tmp_path: Path, item_file: Path) -> Path:
    return text.build_cache(item_file, FIELDS, FakeEncoder(), tmp_path / "toy.textemb.pt", "toy",
                            batch_size=2, show_progress=False)


def test_read_item_texts_joins_fields_and_skips_empty_values(item_file: Path):
    texts = text.read_item_texts(item_file, ["movie_title", "release_year", "genre"])
    assert texts["i1"] == "movie_title: Toy Story; release_year: 1995; genre: Animation Children's Comedy"
    assert texts["i3"] == "movie_title: Four Rooms; genre: Thriller"
    assert texts["i4"] == ""
    assert list(texts) == ["i1", "i2", "i3", "i4", "i5"]


def test_missing_field_names_file_field_and_available_fields(item_file: Path):
    with pytest.raises(ValueError) as err:
        text.read_item_texts(item_file, ["title"])
    message = str(err.value)
    assert "\n" not in message
    assert str(item_file) in message and "'title'" in message
    assert "movie_title" in message and "release_year" in message


def test_non_utf8_line_is_named(tmp_path: Path):
    path = tmp_path / "bad.item"
    path.write_bytes(HEADER.encode() + ROWS[0].encode() + b"i2\tCaf\xe9\t1995\tDrama\n")
    with pytest.raises(ValueError, match=r"bad\.item: line 3 is not valid UTF-8"):
        text.read_item_texts(path, FIELDS)


def test_duplicate_item_is_refused(tmp_path: Path):
    path = write_items(tmp_path / "dup.item", ROWS + [ROWS[0]])
    with pytest.raises(ValueError, match="line 7 repeats item_id 'i1'"):
        text.read_item_texts(path, FIELDS)


def test_cache_loads_with_weights_only(cache: Path, item_file: Path):
    content = torch.load(cache, weights_only=True)
    assert content["format"] == "m2rec.textemb" and content["version"] == 1
    assert content["dataset"] == "toy" and content["encoder"] == "fake-8" and content["dim"] == 8
    assert content["fields"] == FIELDS and content["normalize"] is True
    assert content["tokens"] == ["i1", "i2", "i3", "i4", "i5"]
    assert content["matrix"].dtype == torch.float32 and content["matrix"].shape == (5, 8)
    assert content["text_hash"] == text.text_hash(text.read_item_texts(item_file, FIELDS))
    assert [p.name for p in cache.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_progress_batches_and_empty_texts_are_not_encoded(tmp_path: Path, item_file: Path):
    encoder = FakeEncoder()
    text.build_cache(item_file, FIELDS, encoder, tmp_path / "c.pt", "toy", batch_size=3, show_progress=False)
    assert [len(batch) for batch in encoder.batches] == [3, 1]
    assert "" not in [s for batch in encoder.batches for s in batch]


def test_mapping_by_token_survives_shuffled_item_file(tmp_path: Path, cache: Path, item_file: Path):
    shuffled_rows = ROWS[:]
    random.Random(0).shuffle(shuffled_rows)
    assert shuffled_rows != ROWS
    shuffled = write_items(tmp_path / "shuffled.item", shuffled_rows)
    texts = text.read_item_texts(shuffled, FIELDS)
    assert text.text_hash(texts) == text.text_hash(text.read_item_texts(item_file, FIELDS))

    item_tokens = np.array(["[PAD]", "i5", "i3", "i1", "i2", "i4"])
    table = text.load_item_table(cache, item_tokens, "toy", encoder_name="fake-8", dim=8,
                                 text_hash=text.text_hash(texts))
    assert table.shape == (6, 8) and table.dtype == torch.float32
    encoder = FakeEncoder()
    for internal_id in (1, 2, 3, 4):
        token = str(item_tokens[internal_id])
        assert torch.allclose(table[internal_id], expected_row(encoder, texts[token]))
    assert torch.allclose(table.norm(dim=1)[1:5], torch.ones(4))


def test_padding_and_items_without_text_are_zero_rows(cache: Path):
    item_tokens = np.array(["[PAD]", "i1", "i4", "i2", "i9", "i3", "i5"])
    table = text.load_item_table(cache, item_tokens, "toy")
    assert torch.equal(table[0], torch.zeros(8))
    assert torch.equal(table[2], torch.zeros(8))  # i4: every text field empty
    assert torch.equal(table[4], torch.zeros(8))  # i9: not in the .item file
    assert (table[[1, 3, 5, 6]].norm(dim=1) > 0.99).all()


def assert_refused(cache: Path, pattern: str, **kwargs) -> None:
    with pytest.raises(TextCacheMismatch, match=pattern) as err:
        text.load_item_table(cache, kwargs.pop("item_tokens", np.array(["[PAD]", "i1", "i2", "i3"])),
                             kwargs.pop("dataset_name", "toy"), **kwargs)
    message = str(err.value)
    assert "\n" not in message
    assert str(cache) in message
    assert "python -m m2rec.text build --item-file" in message and "--force" in message


def test_wrong_dataset_is_refused(cache: Path):
    assert_refused(cache, "dataset 'toy', not 'ml-1m'", dataset_name="ml-1m")


def test_wrong_encoder_is_refused(cache: Path):
    assert_refused(cache, "encoder 'fake-8', not 'sentence-transformers/all-MiniLM-L6-v2'",
                   encoder_name="all-MiniLM-L6-v2")


def test_wrong_dim_is_refused(cache: Path):
    assert_refused(cache, "8-dim embeddings, not 384-dim", dim=384)


def test_changed_texts_are_refused(tmp_path: Path, cache: Path):
    edited = write_items(tmp_path / "edited.item", [ROWS[0].replace("Toy Story", "Toy Story 2")] + ROWS[1:])
    new_hash = text.text_hash(text.read_item_texts(edited, FIELDS))
    assert_refused(cache, "other item texts", text_hash=new_hash, item_file=edited, fields=FIELDS)


def test_changed_fields_are_refused(cache: Path):
    assert_refused(cache, r"fields \['movie_title', 'genre'\], not \['movie_title'\]", fields=["movie_title"])


def test_cache_of_another_item_set_is_refused(cache: Path):
    assert_refused(cache, "only 1 of the 4 items", item_tokens=np.array(["[PAD]", "i1", "x2", "x3", "x4"]))


def test_non_cache_file_is_refused(tmp_path: Path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": torch.zeros(2)}, path)
    assert_refused(path, "not an m2rec text-embedding cache")


def test_canonical_encoder_names(tmp_path: Path):
    assert text.canonical_encoder_name("all-MiniLM-L6-v2") == text.DEFAULT_ENCODER
    assert text.canonical_encoder_name("BAAI/bge-large-en-v1.5") == "BAAI/bge-large-en-v1.5"
    assert text.canonical_encoder_name(str(tmp_path)) == str(tmp_path.resolve())
    assert text.canonical_encoder_name(FakeEncoder()) == "fake-8"
    assert text.default_cache_path("saved", "ml-1m", "BAAI/bge-large-en-v1.5") == \
        Path("saved/text/ml-1m-BAAI-bge-large-en-v1.5.textemb.pt")


def test_resolve_encoder_passes_objects_and_explains_download_failure(monkeypatch: pytest.MonkeyPatch):
    fake = FakeEncoder()
    assert text.resolve_encoder(fake) is fake

    def offline(name: str, device: str | None = None):
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files.\nCheck your connection.")

    monkeypatch.setattr("sentence_transformers.SentenceTransformer", offline)
    with pytest.raises(ValueError) as err:
        text.resolve_encoder("BAAI/bge-large-en-v1.5")
    message = str(err.value)
    assert "\n" not in message
    assert "'BAAI/bge-large-en-v1.5' could not be downloaded" in message and "local folder" in message


def recbole_like(tmp_path: Path, **overrides) -> tuple[dict, SimpleNamespace]:
    data_path = tmp_path / "dataset" / "toy"
    data_path.mkdir(parents=True, exist_ok=True)
    write_items(data_path / "toy.item")
    config = {"dataset": "toy", "data_path": str(data_path), "checkpoint_dir": str(tmp_path / "saved"),
              "text_encoder": "all-MiniLM-L6-v2", "text_fields": FIELDS, "device": torch.device("cpu")}
    config.update(overrides)
    dataset = SimpleNamespace(iid_field="item_id", field2id_token={"item_id": np.array(["[PAD]", "i3", "i1", "i2"])})
    return config, dataset


def test_item_text_table_builds_once_then_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    encoder = FakeEncoder()
    monkeypatch.setattr(text, "resolve_encoder", lambda name, device=None: encoder)
    config, dataset = recbole_like(tmp_path)
    table = text.item_text_table(config, dataset)
    cache = tmp_path / "saved" / "text" / "toy-sentence-transformers-all-MiniLM-L6-v2.textemb.pt"
    assert cache.is_file() and table.shape == (4, 8)
    assert torch.allclose(table[2], expected_row(encoder, "movie_title: Toy Story; genre: Animation Children's Comedy"))
    calls = len(encoder.batches)
    assert torch.equal(text.item_text_table(config, dataset), table)
    assert len(encoder.batches) == calls

    config["text_fields"] = ["movie_title"]
    with pytest.raises(TextCacheMismatch, match="fields"):
        text.item_text_table(config, dataset)


def test_item_text_table_without_item_file(tmp_path: Path):
    config, dataset = recbole_like(tmp_path, text_cache=str(tmp_path / "c.pt"))
    (Path(config["data_path"]) / "toy.item").unlink()
    with pytest.raises(ValueError, match=r"toy\.item not found.*fusion: none"):
        text.item_text_table(config, dataset)


def test_cli_build_and_info(tmp_path: Path, item_file: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture):
    monkeypatch.setattr(text, "resolve_encoder", lambda name, device=None: FakeEncoder())
    out = tmp_path / "cli.textemb.pt"
    argv = ["build", "--item-file", str(item_file), "--fields", *FIELDS, "--dataset", "toy", "--out", str(out)]
    assert text.main(argv) == 0
    assert text.main(argv) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert text.main(argv + ["--force"]) == 0
    assert "encoding item texts" in capsys.readouterr().err
    assert text.main(["build", "--item-file", str(item_file), "--fields", "title", "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no field 'title'" in err

    info = subprocess.run([sys.executable, "-m", "m2rec.text", "info", str(out)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=Path(__file__).resolve().parents[1])
    assert info.returncode == 0, info.stderr
    assert "dataset:   toy" in info.stdout and "dim:       8" in info.stdout and "items:     5" in info.stdout
    assert "encoder:   sentence-transformers/all-MiniLM-L6-v2" in info.stdout
    assert "fields:    movie_title genre" in info.stdout and "text_hash: " in info.stdout


def test_real_minilm_default(tmp_path: Path):
    rows = ["a\tToy Story\t1995\tAnimation\n", "b\tToy Story 2\t1999\tAnimation\n",
            "c\tThe Godfather\t1972\tCrime Drama\n"]
    path = write_items(tmp_path / "mini.item", rows)
    cache = text.build_cache(path, ["movie_title"], "all-MiniLM-L6-v2", tmp_path / "mini.pt", "mini",
                             device="cpu", show_progress=False)
    table = text.load_item_table(cache, np.array(["[PAD]", "c", "a", "b"]), "mini",
                                 encoder_name="sentence-transformers/all-MiniLM-L6-v2", dim=384)
    assert table.shape == (4, 384)
    assert torch.allclose(table[1:].norm(dim=1), torch.ones(3), atol=1e-5)
    toy, toy2, godfather = table[2], table[3], table[1]
    assert toy @ toy2 > toy @ godfather + 0.2


class RecBoleConfigLike:
    """Like RecBole's Config: a missing key reads as None."""

    def __init__(self, values: dict):
        self.values = values

    def __getitem__(self, key: str):
        return self.values.get(key)


def test_item_text_table_with_recbole_style_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(text, "resolve_encoder", lambda name, device=None: FakeEncoder())
    values, dataset = recbole_like(tmp_path, text_cache=str(tmp_path / "own.pt"))
    del values["text_encoder"], values["device"]
    table = text.item_text_table(RecBoleConfigLike(values), dataset)
    assert table.shape == (4, 8)
    assert torch.load(tmp_path / "own.pt", weights_only=True)["encoder"] == text.DEFAULT_ENCODER

    del values["text_fields"]
    with pytest.raises(ValueError, match="text_fields is not set"):
        text.item_text_table(RecBoleConfigLike(values), dataset)
