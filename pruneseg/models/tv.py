"""torchvision's segmentation models (``tv:<name>``), built untrained and wrapped to give logits.

torchvision returns a dict (``out``, and ``aux`` from the auxiliary head of DeepLabV3 and FCN).
The wrapper returns the logits (N, C, H, W) at input size in eval mode, so export, analysis and
the target see one output; in training mode it returns ``{"out", "aux"}`` where the model has an
auxiliary head, and the training loss adds the auxiliary term (``train.segmentation_loss``).
Nothing is downloaded: no weights, no pretrained backbone.
"""
import torch.nn.functional as F
from torch import nn
from torchvision.models import get_model



class TorchvisionSegmenter(nn.Module):
    """torchvision model ``name`` with ``num_classes`` outputs. Input (N, 3, H, W) -> logits (N, C, H, W)."""

    def __init__(self, name, num_classes):
        super().__init__()
        aux = {"aux_loss": True} if not name.startswith("lraspp") else {}  # LR-ASPP has no auxiliary head
        self.net = get_model(name, weights=None, weights_backbone=None, num_classes=num_classes, **aux)

    def forward(self, x):
        if self.training:
            outputs = self.net(x)
            return outputs if "aux" in outputs else outputs["out"]
        if getattr(self.net, "aux_classifier", None) is None:
            return self.net(x)["out"]
        logits = self.net.classifier(self.net.backbone(x)["out"])  # the auxiliary head left out
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def all_outputs(self, x):
        """Every head's output, the auxiliary one included (what pruning traces)."""
        return self.net(x)
