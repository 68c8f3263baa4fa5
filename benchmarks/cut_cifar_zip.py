"""Cut the CIFAR-10 image-folder zip down to what one class split's runs read.

A GPU lease takes at most 64 MiB of files along, and the shared zip is
52 MB. A run of class split ``--split`` reads every image of its four IN
classes (training images for the pool, test images for the test set) and
draws its OOD pool images from the other classes' training images, so this
keeps those IN images whole, ``--ood-per-class`` random training images of
each OOD class (seed ``--seed``) and ``--ood-test-per-class`` test images
of each (the loader wants every class in both folders; no run reads them).
At 40% noise a split draws 13,333 OOD pool images, so the default 2,500 of
each of six classes (15,000) leave the pool's size and makeup the
protocol's; the images drawn are not those a run on the full zip draws.
Split 0's cut is 32.2 MiB, which left room for the repository on the lease
of 2026-12-04 (3,333 of each, 36.3 MiB, did not).

    python benchmarks/cut_cifar_zip.py --split 0 --out .lease/cifar10-split0.zip
"""

import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

from _common import WHOLE_OR_NONE, open_atomic, stopped_by_signals

import numpy as np

from skal_openset import CIFAR10_CLASSES, CIFAR10_SPLITS
from skal_openset._argtypes import Parser, positive_int, user_path

DEFAULT_DATA = Path(__file__).parent.parent.parent / "shared" / "data"


def cut_zip(data, out, split, ood_per_class, ood_test_per_class, seed):
    """Write the cut of zip `data` to `out`; return how many images it keeps.

    A ValueError if an OOD class holds fewer images than are to be kept.
    """
    in_classes = {CIFAR10_CLASSES[c] for c in CIFAR10_SPLITS[split]}
    rng = np.random.RandomState(seed)
    with zipfile.ZipFile(data) as source:
        images = defaultdict(list)  # (folder, class) -> member names
        for info in source.infolist():
            # "/train/cat/1.jpg" is read as "train/cat/1.jpg" by the loader
            parts = PurePosixPath(info.filename.lstrip("/")).parts
            if not info.is_dir() and len(parts) == 3:
                images[parts[:2]].append(info.filename)
        missing = sorted(
            f"{folder}/{name}"
            for folder in ("train", "test")
            for name in in_classes
            if not images[folder, name]
        )
        if missing:
            raise ValueError(
                f"{data} holds no images of {', '.join(missing)} (train/<class>/ "
                "and test/<class>/ at its top); pass the CIFAR-10 image-folder zip"
            )
        kept = []
        for (folder, name), members in sorted(images.items()):
            members = sorted(members)
            n = ood_per_class if folder == "train" else ood_test_per_class
            if name not in in_classes:
                if n > len(members):
                    raise ValueError(
                        f"{data} holds {len(members)} {folder} images of {name}, "
                        f"fewer than the {n} asked for; ask for at most that many"
                    )
                members = sorted(rng.choice(members, n, replace=False))
            kept += members
        with (
            open_atomic(out, "wb") as file,
            zipfile.ZipFile(file, "w") as target,
        ):
            for member in kept:  # the images' bytes and member settings
                info = source.getinfo(member)
                target.writestr(info, source.read(info), info.compress_type)
    return len(kept)


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=user_path, required=True, help="the cut zip, written whole"
    )
    parser.add_argument(
        "--data",
        type=user_path,
        default=DEFAULT_DATA / "cifar10-jpeg.zip",
        help="the CIFAR-10 image-folder zip (default: ../shared/data/cifar10-jpeg.zip)",
    )
    parser.add_argument(
        "--split",
        type=int,
        default=0,
        choices=range(len(CIFAR10_SPLITS)),
        help="the class split whose IN images are kept whole (default: 0)",
    )
    parser.add_argument(
        "--ood-per-class",
        type=positive_int,
        default=2500,
        help="random training images kept of each OOD class (default: 2500)",
    )
    parser.add_argument(
        "--ood-test-per-class",
        type=positive_int,
        default=10,
        help="random test images kept of each OOD class, which no run reads "
        "(default: 10)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the OOD images kept (default: 0)"
    )
    args = parser.parse_args(argv)
    if not zipfile.is_zipfile(args.data):
        parser.error(f"--data {args.data} is no zip file; pass the image-folder zip")
    try:
        kept = cut_zip(
            args.data,
            args.out,
            args.split,
            args.ood_per_class,
            args.ood_test_per_class,
            args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    size = args.out.stat().st_size / 2**20
    print(f"{args.out}: {kept} images, {size:.1f} MiB")


if __name__ == "__main__":
    with stopped_by_signals(WHOLE_OR_NONE, output_last=True):
        main()
