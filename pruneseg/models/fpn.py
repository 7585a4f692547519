"""The seed's FPN-ResNet18 (``pt_SemanticFPN_cityscapes_256_512_10G``).

Not Kirillov's Semantic FPN: every decoder tensor is as wide as the number of classes K.
ResNet18 gives c1..c4 (64/128/256/512 channels, strides 4/8/16/32); ``enc2dec`` maps c4
to K channels; each up module computes
``fuse(ConvT_2x2(prev) + lateral(c_i))``; two more 2x2 transposed convs return from
stride 4 to full resolution. Input height and width must be multiples of 32.
"""
from torch import nn
from torchvision.models import resnet18
from torchvision.models.resnet import BasicBlock


def _projecting_block(in_channels, out_channels):
    projection = nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
    return BasicBlock(in_channels, out_channels, downsample=projection)


class UpModule(nn.Module):
    """Upsample the decoder tensor by 2 and fuse it with one encoder level."""

    def __init__(self, encoder_channels, num_classes):
        super().__init__()
        self.up = nn.ConvTranspose2d(num_classes, num_classes, 2, stride=2)
        self.lateral = _projecting_block(encoder_channels, num_classes)
        self.fuse = BasicBlock(num_classes, num_classes)

    def forward(self, x, encoder_feature):
        return self.fuse(self.up(x) + self.lateral(encoder_feature))


class FPN(nn.Module):
    """FPN-ResNet18. Input (N, 3, H, W) -> logits (N, num_classes, H, W)."""

    def __init__(self, num_classes=6):
        super().__init__()
        backbone = resnet18(weights=None)
        self.stem = nn.Sequential(backbone.conv1, backbone.bn1, backbone.relu, backbone.maxpool)
        self.layer1 = backbone.layer1
        self.layer2 = backbone.layer2
        self.layer3 = backbone.layer3
        self.layer4 = backbone.layer4
        self.enc2dec = nn.Sequential(
            nn.Conv2d(512, num_classes, 3, padding=1, bias=False),
            nn.BatchNorm2d(num_classes),
            nn.ReLU(inplace=True),
        )
        self.up3 = UpModule(256, num_classes)
        self.up2 = UpModule(128, num_classes)
        self.up1 = UpModule(64, num_classes)
        self.head = nn.Sequential(
            nn.ConvTranspose2d(num_classes, num_classes, 2, stride=2),
            nn.ConvTranspose2d(num_classes, num_classes, 2, stride=2),
        )

    def forward(self, x):
        c1 = self.layer1(self.stem(x))
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        c4 = self.layer4(c3)
        x = self.enc2dec(c4)
        x = self.up3(x, c3)
        x = self.up2(x, c2)
        x = self.up1(x, c1)
        return self.head(x)
