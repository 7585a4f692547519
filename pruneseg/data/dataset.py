"""The torch Dataset over scanned samples (kept apart so reading data needs no torch)."""
from torch.utils.data import Dataset

from pruneseg.data.samples import read_sample


class SegmentationDataset(Dataset):
    """Samples through a joint transform: ``transform(image, classes) -> (tensor, tensor)``."""

    def __init__(self, samples, transform):
        self.samples = list(samples)
        self.transform = transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        image, classes = read_sample(self.samples[index])
        return self.transform(image, classes)

