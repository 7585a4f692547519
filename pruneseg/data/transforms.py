"""Joint image/mask transforms: random scale, crop and flip for training, resize for validation."""
import cv2
import numpy as np
import torch

from pruneseg.data.classes import IGNORE_INDEX

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalize(image, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """uint8 (H, W, 3) RGB -> float32 (3, H, W) normalised with ImageNet mean/std."""
    scaled = image.astype(np.float32) / 255.0
    scaled = (scaled - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(scaled.transpose(2, 0, 1))


def resize_pair(image, classes, height, width):
    """Resize image (bilinear) and class mask (nearest) to (height, width)."""
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    classes = cv2.resize(classes, (width, height), interpolation=cv2.INTER_NEAREST)
    return image, classes


class EvalTransform:
    """Deterministic: resize to (height, width), normalise."""

    def __init__(self, height, width):
        self.height, self.width = height, width

    def __call__(self, image, classes):
        image, classes = resize_pair(image, classes, self.height, self.width)
        return torch.from_numpy(normalize(image)), torch.from_numpy(classes.astype(np.int64))


class TrainTransform:
    """Random scale of the (height, width) output size, random crop, random horizontal flip.

    Randomness comes from torch so DataLoader workers draw different augmentations.
    """

    def __init__(self, height, width, scale_range=(0.5, 2.0), flip_prob=0.5):
        self.height, self.width = height, width
        self.scale_range = scale_range
        self.flip_prob = flip_prob

    def __call__(self, image, classes):
        low, high = self.scale_range
        scale = low + (high - low) * torch.rand(()).item()
        scaled_h, scaled_w = round(self.height * scale), round(self.width * scale)
        image, classes = resize_pair(image, classes, scaled_h, scaled_w)
        pad_h, pad_w = max(self.height - scaled_h, 0), max(self.width - scaled_w, 0)
        if pad_h or pad_w:
            image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)))
            classes = np.pad(classes, ((0, pad_h), (0, pad_w)), constant_values=IGNORE_INDEX)
        top = torch.randint(0, image.shape[0] - self.height + 1, ()).item()
        left = torch.randint(0, image.shape[1] - self.width + 1, ()).item()
        image = image[top:top + self.height, left:left + self.width]
        classes = classes[top:top + self.height, left:left + self.width]
        if torch.rand(()).item() < self.flip_prob:
            image, classes = image[:, ::-1], classes[:, ::-1]
        return (torch.from_numpy(normalize(image)),
                torch.from_numpy(np.ascontiguousarray(classes).astype(np.int64)))
