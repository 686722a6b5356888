#!/usr/bin/env python
"""Train and evaluate M2Rec (or any RecBole model): `python run_mm.py --help`."""
import sys

from m2rec.runner import main

if __name__ == "__main__":
    sys.exit(main())
