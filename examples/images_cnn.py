"""Images with the small CNN: Fashion-MNIST, or digits when it is not at hand.

The CNN factory takes the images as they come, (n, 28, 28) here, flat, with a
channel axis, channels-last or as uint8 pixels, and converts them to its
(1, 28, 28) layout. Fashion-MNIST is read from ``../shared/data/fashion-mnist``
when it is there (a random 3,000 of its 60,000 training images, to keep the
run short on a CPU); else scikit-learn's 8x8 digits, with
``input_shape=(1, 8, 8)``.

Run: python examples/images_cnn.py   (SKAL_EXAMPLE_QUICK=1: seconds)
"""

import os
from pathlib import Path

import numpy as np
import torch

from skal_openset import (
    MQNetQuery,
    UncertaintyQuery,
    load_digits_dataset,
    load_fashion_mnist,
    make_cnn_classifier,
    make_open_set_split,
    run_active_learning,
)

QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"
torch.set_num_threads(2)

# ../shared beside the checkout; .parent stops at the root, where parents[2]
# of a copy in /app raised an IndexError.
folder = Path(__file__).absolute().parent.parent.parent / "shared" / "data"
folder /= "fashion-mnist"
if folder.exists() and not QUICK:
    X, y, _, _ = load_fashion_mnist(folder)
    keep = np.random.RandomState(0).permutation(len(y))[:3000]
    X, y, shape = X[keep, 0], y[keep], (1, 28, 28)  # (n, 28, 28): no channel axis
    print(f"Fashion-MNIST from {folder} (3,000 images)")
else:
    X, y = load_digits_dataset()
    X, shape = X.reshape(-1, 8, 8), (1, 8, 8)
    print("digits (scikit-learn's): " + ("quick mode" if QUICK else f"no {folder}"))
split = make_open_set_split(
    X, y, n_in_classes=4, noise_ratio=0.4, initial_size=40, random_state=0
)
cnn = make_cnn_classifier(
    split.n_classes, input_shape=shape, max_epochs=5 if QUICK else 15, random_state=0
)
for name, strategy in [("MQ-Net", MQNetQuery), ("CONF", UncertaintyQuery)]:
    records = run_active_learning(
        split, cnn, strategy(random_state=0), n_rounds=3 if QUICK else 5, budget=40
    )
    share = np.mean([r["query_in_share"] for r in records[1:]])
    print(
        f"{name:7s} final accuracy {records[-1]['test_accuracy']:.3f}, "
        f"IN share of queries {share:.2f}"
    )
