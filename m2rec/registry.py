"""Models this package adds to RecBole, by the name `--model` takes."""
from m2rec.model import M2Rec, Mamba4Rec

MODELS = {"M2Rec": M2Rec, "Mamba4Rec": Mamba4Rec}
