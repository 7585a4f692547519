"""World and camera: the label ids, and the canvas that projects world metres onto an image and its mask.

World axes are x lateral, y up, z depth; the camera sits at (0, h, z) looking along +z.
"""
import cv2
import numpy as np

NEAR = 0.5  # metres; geometry closer to the camera plane is not drawn

EGO, ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE = 1, 7, 8, 11, 12, 13, 17
LIGHT, SIGN, VEGETATION, TERRAIN, SKY = 19, 20, 21, 22, 23
PERSON, RIDER, CAR, TRUCK, BUS, MOTORCYCLE, BICYCLE = 24, 25, 26, 27, 28, 32, 33
LABEL_IDS = (EGO, ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION,
             TERRAIN, SKY, PERSON, RIDER, CAR, TRUCK, BUS, MOTORCYCLE, BICYCLE)
UP = np.array([0.0, 1.0, 0.0])


class Canvas:
    """Float RGB image and label-id mask, drawn together through a camera at (0, h, z) looking at +z."""

    def __init__(self, height, width, scene, cam_z):
        self.img = np.zeros((height, width, 3), np.float32)
        self.lab = np.zeros((height, width), np.uint8)
        self.f, self.cx, self.cy = scene["f"] * width, width / 2, scene["horizon"] * height
        self.h, self.z, self.scene = scene["cam_h"], cam_z, scene

    def depth(self, pts):
        return np.asarray(pts, np.float64).reshape(-1, 3)[:, 2] - self.z

    def project(self, pts):
        pts = np.asarray(pts, np.float64).reshape(-1, 3)
        d = pts[:, 2] - self.z
        uv = np.stack([self.cx + self.f * pts[:, 0] / d, self.cy + self.f * (self.h - pts[:, 1]) / d], 1)
        return np.clip(uv, -1e6, 1e6)

    def scale(self, z):
        """Pixels per metre at world depth z."""
        return self.f / (z - self.z)

    def fill(self, polys, colour, label):
        pts = [np.round(np.asarray(p) * 4).astype(np.int32) for p in polys]  # 2 sub-pixel bits
        cv2.fillPoly(self.img, pts, tuple(map(float, colour)), shift=2)
        if label is not None:
            cv2.fillPoly(self.lab, pts, int(label), shift=2)

    def line(self, p, q, colour, label, width):
        p, q, t = tuple(np.round(p * 4).astype(int)), tuple(np.round(q * 4).astype(int)), max(1, round(width))
        cv2.line(self.img, p, q, tuple(map(float, colour)), t, shift=2)
        if label is not None:
            cv2.line(self.lab, p, q, int(label), t, shift=2)

    def disk(self, centre, radius, colour, label):
        c, r = tuple(np.round(centre * 4).astype(int)), max(1, round(radius * 4))
        cv2.circle(self.img, c, r, tuple(map(float, colour)), -1, shift=2)
        if label is not None:
            cv2.circle(self.lab, c, r, int(label), -1, shift=2)


def shade(scene, normal):
    """Light on a vertical face with horizontal unit normal (nx, nz)."""
    sun = max(0.0, normal[0] * scene["sun"][0] + normal[1] * scene["sun"][1])
    return scene["ambient"] + (1 - scene["ambient"]) * sun
