"""Image augmentation as batched tensor ops, on whatever device the batch is.

Every function takes a float batch ``(n, C, H, W)`` and draws one random
transformation per image from torch's global RNG (seeded by the nets'
``random_state``), so a whole batch is augmented in a few kernel calls and
nothing leaves the device. The draws are float32 whatever torch's default
dtype, so a seed gives the same transformations under any.
"""

import torch
import torch.nn.functional as F

from ._validation import is_int


def _check_images(x, name="x"):
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor of images (n, C, H, W); got "
            f"{type(x).__name__}: convert an array with torch.from_numpy({name})."
        )
    if x.dim() != 4:
        raise ValueError(
            f"{name} must be a 4-d tensor of images (n, C, H, W); got shape "
            f"{tuple(x.shape)}."
        )


def _uniform(x, *size, low=0.0, high=1.0):
    """Uniform draws in [low, high), float32, on the device of the batch `x`."""
    return torch.empty(size, device=x.device, dtype=torch.float32).uniform_(low, high)


def random_crop_flip(x: torch.Tensor, padding: int = 4) -> torch.Tensor:
    """Random crop after zero padding, then a random horizontal flip.

    The CIFAR augmentation of the MQ-Net paper (and of most CIFAR recipes):
    each image is shifted by up to ``padding`` pixels in each direction,
    the uncovered border filled with zeros, and mirrored with probability 1/2.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)
        Images.
    padding : int, default=4
        Largest shift in pixels.

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
        A new, contiguous tensor; ``x`` is not modified.

    Examples
    --------
    >>> import torch
    >>> from skal_openset import random_crop_flip
    >>> random_crop_flip(torch.ones(2, 3, 8, 8)).shape
    torch.Size([2, 3, 8, 8])
    """
    _check_images(x)
    check_padding(padding, "padding")
    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n, 1), device=x.device)
    dx = torch.randint(0, 2 * padding + 1, (n, 1), device=x.device)
    rows = (torch.arange(h, device=x.device) + dy)[:, :, None]  # (n, h, 1)
    cols = torch.arange(w, device=x.device) + dx  # (n, w)
    flip = _uniform(x, n, 1) < 0.5
    cols = torch.where(flip, cols.flip(1), cols)[:, None, :]  # (n, 1, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    # advanced indexing puts the indexed axes first: (n, h, w, C); laid out
    # so in memory, a batch of odd size crashed a CPU backward pass on 2 threads
    crops = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    return crops.contiguous()


def check_padding(padding, name):
    """Raise a ValueError unless `padding` is a non-negative integer."""
    if not is_int(padding, min_val=0):
        raise ValueError(
            f"{name} must be a non-negative integer (pixels of zero padding "
            f"before the random crop); got {padding!r}."
        )


def random_hflip(x):
    """Mirror each image left to right with probability 1/2.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
    """
    _check_images(x)
    flip = _uniform(x, len(x), 1, 1, 1) < 0.5
    return torch.where(flip, x.flip(3), x)


def random_resized_crop_flip(x, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3), flip=True):
    """SimCLR's random resized crop and horizontal flip, one affine warp per image.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)
    scale : (float, float), default=(0.2, 1.0)
        Range of the crop's area as a share of the image.
    ratio : (float, float), default=(3/4, 4/3)
        Range of the crop's aspect ratio.
    flip : bool, default=True
        Also mirror each image with probability 1/2; False only crops.

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
    """
    _check_images(x)
    n = x.shape[0]
    area = _uniform(x, n, low=scale[0], high=scale[1])
    # float32 on the CPU, whatever torch's default device: read back at once.
    ratio = torch.tensor(ratio, dtype=torch.float32, device="cpu")
    low, high = torch.log(ratio).tolist()
    log_ratio = _uniform(x, n, low=low, high=high)
    aspect = torch.exp(log_ratio)
    # half-extent of the crop in normalised [-1, 1] coordinates
    sx = torch.sqrt(area * aspect).clamp(max=1.0)
    sy = torch.sqrt(area / aspect).clamp(max=1.0)
    tx = (_uniform(x, n) * 2 - 1) * (1 - sx)
    ty = (_uniform(x, n) * 2 - 1) * (1 - sy)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2] = sx, tx
    if flip:
        theta[:, 0, 0] *= torch.where(_uniform(x, n) < 0.5, -1.0, 1.0)
    theta[:, 1, 1], theta[:, 1, 2] = sy, ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # A crop flush with the image's side samples between its last pixel centre
    # and the edge: border padding gives those samples the edge pixel, as
    # resizing a crop inside the image would, where zeros darkened the rim.
    return F.grid_sample(
        x, grid, mode="bilinear", padding_mode="border", align_corners=False
    )


def color_jitter(x, strength=0.4, grayscale_p=0.2):
    """Random brightness, contrast and saturation, then random greyscale.

    Parameters
    ----------
    x : torch.Tensor of shape (n, 3, H, W)
        RGB images in [0, 1].
    strength : float, default=0.4
        Each factor is drawn uniformly from ``[1 - strength, 1 + strength]``.
    grayscale_p : float, default=0.2
        Probability of replacing an image by its luminance.

    Returns
    -------
    torch.Tensor of shape (n, 3, H, W), clipped to [0, 1]
    """
    _check_images(x)
    n = x.shape[0]

    def factor():
        return _uniform(x, n, 1, 1, 1, low=1 - strength, high=1 + strength)

    weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype)
    x = x * factor()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * factor() + mean
    grey = (x * weights[:, None, None]).sum(1, keepdim=True)
    x = (x - grey) * factor() + grey
    to_grey = _uniform(x, n, 1, 1, 1) < grayscale_p
    x = torch.where(to_grey, grey.expand_as(x), x)
    return x.clamp(0, 1)


def rotate90(x, k):
    """Rotate each image by ``k[i]`` quarter turns (CSI's shifting transformation).

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W) with H == W
    k : torch.Tensor of shape (n,)
        Integers in 0..3.

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
    """
    _check_images(x)
    if x.shape[2] != x.shape[3]:
        raise ValueError(f"rotate90 needs square images; got {tuple(x.shape[2:])}.")
    out = x.clone()
    for turns in range(1, 4):
        rows = k == turns
        if rows.any():
            out[rows] = torch.rot90(x[rows], turns, dims=(2, 3))
    return out
