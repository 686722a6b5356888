"""Models this package adds to RecBole, by the name `--model` takes."""
from m2rec.lrurec import LRURec
from m2rec.model import M2Rec, Mamba4Rec
from m2rec.recmamba import RecMamba

MODELS = {"M2Rec": M2Rec, "Mamba4Rec": Mamba4Rec, "LRURec": LRURec, "RecMamba": RecMamba}
