"""meterbench: the labelled crops for the dial readers, and how they are split.

Shared by scripts/train-vision (training) and scripts/eval-vision (figures). The split is by
sub-folder (one maker / meter / camera per folder), never by random file: a validation crop
must come from a meter the model has never seen (see ../shared/data/README.md).
"""
import os
import re

DATA_DIR = os.environ.get("MTB_DATA_DIR",
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))

# Input sizes of the networks (width, height); vision/reader.c uses the same numbers.
DIGIT_W, DIGIT_H = 20, 32
NEEDLE_W, NEEDLE_H = 48, 48
N_TENTHS = 100          # classes 0..99: the position on the circle in tenths
REJECT = 100            # class 100: "not a digit / not a pointer"

# Held out from training, by folder (relative to the data set root). Water meters first: that
# is what the bench reads. Everything else in the set trains.
DIGIT_SET = "digits/haverland-tenth-of-step"
DIGIT_HOLDOUT = (
    "collected/watermeter/",
    "collected/gasmeter/",
    "collected/powermeter/Heliowatt/",
    "collected/powermeter/LandisGyrT330_C/",
)
NEEDLE_SET = "needles/jomjol-analog-needle-mit2021"
# Needle crops carry the pointer's name as the third field (zeiger1..3, zeigeru): hold out
# whole pointers.
NEEDLE_HOLDOUT = ("zeiger3", "zeigeru")

_TENTH = re.compile(r"^(\d)(?:\.(\d+))?$")


def tenths_from_text(text):
    """'2.9' -> 29, '7' -> 70, '2.9000000000000004' -> 29; None when not a clean label."""
    m = _TENTH.match(text)
    if not m:
        return None
    v = float(text) * 10.0
    t = round(v)
    if abs(v - t) > 1e-6 or not 0 <= t < 100:
        return None
    return t


def digit_items():
    """[(path, tenths, group, held_out)] for every labelled digit crop."""
    root = os.path.join(DATA_DIR, DIGIT_SET)
    out = []
    for dirpath, _, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel + "/"
        for f in sorted(files):
            if not f.lower().endswith((".jpg", ".png", ".bmp")):
                continue
            t = tenths_from_text(f.split("_", 1)[0] if "_" in f else os.path.splitext(f)[0])
            if t is None:
                continue
            held = rel.startswith(DIGIT_HOLDOUT)
            out.append((os.path.join(dirpath, f), t, rel, held))
    out.sort()
    return out


def needle_items():
    """[(path, tenths, group, held_out)] for every labelled pointer crop."""
    root = os.path.join(DATA_DIR, NEEDLE_SET)
    out = []
    for f in sorted(os.listdir(root)):
        if not f.lower().endswith((".jpg", ".png", ".bmp")):
            continue
        t = tenths_from_text(f[:3])
        if t is None:
            continue
        parts = os.path.splitext(f)[0].split("_")
        group = parts[2] if len(parts) > 2 and parts[2].startswith("zeiger") else "other"
        out.append((os.path.join(root, f), t, group, group in NEEDLE_HOLDOUT))
    return out
