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
NEEDLE_W, NEEDLE_H = 40, 40
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

# Validation folders: part of the training folders, set aside (train-vision --val) to choose
# architecture, augmentation, views and refusal rules (scripts/validate-vision) without looking
# at the held-out folders above. Chosen before any figure was measured on them: the maker-named
# power meters other than the largest (ISKRA), the three single-camera folders of the 2022
# update, and pointer zeiger1. The committed models are then trained on every folder that is
# not held out, validation folders included, with the choices made on validation.
DIGIT_VAL = (
    "collected/powermeter/ itron_C114U_2/",
    "collected/powermeter/Landis+Gyr - MM2600JH/",
    "collected/powermeter/betar/",
    "collected/powermeter/emeter1/",
    "jomjol_update_20220608/labeled_20220607_46/",
    "jomjol_update_20220608/labeled_20220607_51/",
    "jomjol_update_20220608/labeled_20220607_65/",
)
# Pointers: a second fold (zeiger2) was added after the first (zeiger1) turned out to tell the
# candidates apart poorly (docs/model-card.md); the pointer network was chosen on both.
NEEDLE_VAL_FOLDS = (("zeiger1",), ("zeiger2",))


def is_val(kind, group, fold=0):
    """True when a crop of this group (as digit_items / needle_items give it) is validation
    (pointers: in validation fold `fold`; digits have one fold)."""
    return group.startswith(DIGIT_VAL) if kind == "digit" else group in NEEDLE_VAL_FOLDS[fold]

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
