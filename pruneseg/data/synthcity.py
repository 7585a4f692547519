"""Synthcity: a procedural street-scene dataset written in the real Cityscapes layout.

A pinhole camera at height h looks down a straight street over a flat ground plane. Everything
is placed in world metres (x lateral, y up, z depth) and projected, far to near (painter's
algorithm), so perspective, scale and occlusion come for free, and the driving video only moves
the camera and the traffic. Class colours overlap on purpose (grey cars on grey asphalt under
grey skies, clothing in any colour): per-pixel colour is a poor cue, shape and context are good.
"""
import json
import math
import multiprocessing
import time
from pathlib import Path

import cv2
import numpy as np
from imageio_ffmpeg import write_frames
from PIL import Image

VERSION = "synthcity-1"
CITIES = {"train": ("aachen_synth", "bremen_synth", "cologne_synth"), "val": ("munster_synth",)}
FRAME_ID = 19  # Cityscapes annotates frame 19 of each 30-frame snippet
VIDEO_FPS = 10
MIN_SIZE = 64
NEAR = 0.5  # metres; geometry closer to the camera plane is not drawn

EGO, ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE = 1, 7, 8, 11, 12, 13, 17
LIGHT, SIGN, VEGETATION, TERRAIN, SKY = 19, 20, 21, 22, 23
PERSON, RIDER, CAR, TRUCK, BUS, MOTORCYCLE, BICYCLE = 24, 25, 26, 27, 28, 32, 33
LABEL_IDS = (EGO, ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION,
             TERRAIN, SKY, PERSON, RIDER, CAR, TRUCK, BUS, MOTORCYCLE, BICYCLE)

# Real car paint is mostly white, grey and black: exactly what makes colour ambiguous.
PAINTS = ((235, 235, 232), (185, 187, 190), (135, 137, 140), (90, 92, 96), (28, 28, 32),
          (25, 35, 75), (135, 25, 28), (45, 75, 140), (60, 85, 60), (200, 180, 140), (215, 170, 40))
PAINT_P = (0.18, 0.15, 0.14, 0.10, 0.15, 0.05, 0.07, 0.06, 0.03, 0.04, 0.03)
FACADES = ((205, 198, 186), (170, 166, 160), (122, 122, 124), (88, 88, 94), (188, 160, 124),
           (150, 82, 62), (218, 206, 170), (110, 100, 90), (176, 190, 200), (232, 226, 215))
SKINS = ((235, 200, 170), (205, 155, 115), (150, 100, 70), (95, 65, 45))
SIGNS = ((200, 30, 30), (30, 70, 170), (235, 235, 235), (230, 190, 30))
UP = np.array([0.0, 1.0, 0.0])


def _colour(rng, base, jitter=12.0):
    """``base`` RGB with a random brightness and a small per-channel jitter."""
    rgb = np.asarray(base, np.float64) * rng.uniform(0.85, 1.1) + rng.uniform(-jitter, jitter, 3)
    return np.clip(rgb, 0, 255)


def _grey(rng, lo, hi):
    return _colour(rng, (rng.uniform(lo, hi),) * 3, 6.0)


def _any_colour(rng):
    """Clothing and the like: half greys, half anything."""
    return _grey(rng, 15, 225) if rng.random() < 0.5 else rng.uniform(15, 235, 3)


def _paint(rng):
    return _colour(rng, PAINTS[rng.choice(len(PAINTS), p=PAINT_P)])


class _Canvas:
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


def _shade(scene, normal):
    """Light on a vertical face with horizontal unit normal (nx, nz)."""
    sun = max(0.0, normal[0] * scene["sun"][0] + normal[1] * scene["sun"][1])
    return scene["ambient"] + (1 - scene["ambient"]) * sun


# ---------------------------------------------------------------- scene layout, world metres

def _make_scene(rng, travel=0.0):
    """Lay out one street; ``travel`` metres more of it for a camera that drives forward."""
    u = rng.uniform
    sky = rng.choice(["clear", "hazy", "overcast", "dusk"], p=[0.4, 0.2, 0.32, 0.08])
    sunny = sky in ("clear", "dusk")
    top, horizon = {
        "clear": ((u(40, 100), u(100, 160), u(190, 250)), (u(170, 215), u(190, 228), u(220, 250))),
        "hazy": ((u(120, 170), u(150, 190), u(190, 230)), (u(200, 235),) * 3),
        "overcast": ((u(120, 190),) * 3, (u(170, 230),) * 3),  # as grey as facades and asphalt
        "dusk": ((u(60, 100), u(70, 100), u(120, 160)), (u(220, 250), u(140, 180), u(90, 130))),
    }[sky]
    sun = rng.normal(size=2)
    sc = {
        # camera: focal length / width, horizon row / height, height (m), speed (m/s, video only)
        "f": u(0.75, 1.1), "horizon": u(0.36, 0.5), "cam_h": u(1.25, 1.7), "cam_v": u(7, 11),
        "sky_top": np.array(top), "sky_hor": np.array(horizon), "clouds": rng.random((4, 8)),
        "cloudiness": u(0.1, 0.5) if sky == "clear" else u(0.4, 1.0),
        "sun": sun / np.linalg.norm(sun), "ambient": u(0.45, 0.7) if sunny else u(0.8, 0.95),
        "shadow": u(0.4, 0.65) if sunny else u(0.7, 0.85), "shadow_len": u(0.3, 1.5) if sunny else 0.1,
        "tile": rng.random((64, 64)).astype(np.float32),  # ground texture
        "light": rng.random((3, 5)).astype(np.float32), "gain": u(0.6, 1.25), "cast": u(0.85, 1.15, 3),
        "contrast": u(0.7, 1.2), "gamma": u(0.75, 1.3), "noise": u(2, 10), "blur": u(0.3, 1.1),
        "hood": (u(0.05, 0.13), _paint(rng)) if rng.random() < 0.35 else None,
    }
    n, lw = int(rng.integers(2, 5)), u(2.9, 3.6)
    first_fwd = n // 2  # right-hand traffic: the lanes left of the centre line come towards us
    lane0 = -(int(rng.integers(first_fwd, n)) + u(0.3, 0.7)) * lw  # left edge of the car lanes
    bike = [u(1.2, 1.8) if rng.random() < 0.5 else 0.0 for _ in range(2)]
    sc.update(lanes=(n, lw, first_fwd), lane0=lane0, bike_lanes=bike,
              road=(lane0 - bike[0], lane0 + n * lw + bike[1]),
              bike_tint=u(0.85, 1.15, 3) if rng.random() < 0.4 else np.ones(3),
              centre_col=(230, 190, 40) if rng.random() < 0.3 else (225, 225, 220),
              road_col=_grey(rng, 55, 135),
              walk_col=_colour(rng, [(150, 150, 150), (160, 100, 85), (190, 175, 150)][rng.integers(3)], 20),
              terrain_col=_colour(rng, (95, 115, 60) if rng.random() < 0.6 else (135, 110, 80), 20),
              cross=(u(18, 60), u(8, 14)) if rng.random() < 0.5 else None)
    far, objs = 160.0 + travel, []
    sides = [_make_side(rng, sc, objs, s, far) for s in (-1, 1)]
    sc["walk"], sc["terrain"] = [w for w, _ in sides], [t for _, t in sides]
    _make_traffic(rng, sc, objs, far)
    _make_people(rng, sc, objs)
    if rng.random() < 0.6:  # a distant skyline closing the street, hazed towards the horizon colour
        x = -150.0
        while x < 150:
            w = u(10, 40)
            objs.append(dict(kind="skyline", x=x, z=far + 20, w=w, hgt=u(8, 45),
                             col=_grey(rng, 110, 200) * 0.5 + sc["sky_hor"] * 0.5))
            x += w
    sc["objects"] = objs
    return sc


def _make_side(rng, sc, objs, s, far):
    """Buildings (or a park behind a wall or fence), poles and trees on side s (-1 left, +1 right)."""
    u = rng.uniform
    edge = sc["road"][0] if s < 0 else sc["road"][1]
    walk, terrain = u(1.5, 4.5), (u(0.8, 3.5) if rng.random() < 0.4 else 0.0)
    xb = edge + s * (walk + terrain + u(0.0, 1.0))
    cross = sc["cross"]
    spans = [(-10.0, cross[0] - 3), (cross[0] + cross[1] + 3, far)] if cross else [(-10.0, far)]
    park = rng.random() < 0.2
    for z0, z1 in spans:
        z = z0
        while z < z1 - 2:
            length = min(u(8, 30), z1 - z)
            if park:
                kind = "wall" if rng.random() < 0.5 else "fence"
                col = _grey(rng, 60, 190) if kind == "fence" or rng.random() < 0.6 else _colour(rng, FACADES[5])
                hgt = u(1.0, 2.4) if kind == "wall" else 1.6
                for a in np.arange(z, z + length, 8.0):  # short pieces keep the painter's order right
                    objs.append(dict(kind=kind, x=xb, z0=a, z=min(a + 8, z + length), hgt=hgt, col=col))
                objs.extend(_tree(rng, xb + s * u(1, 12), u(z, z + length)) for _ in range(int(length / 5)))
            elif rng.random() < 0.12:  # a gap between houses
                length = u(3, 10)
            else:  # "z" is the far end: see _render
                objs.append(dict(
                    kind="block", x=xb, s=s, z0=z, z=z + length,
                    hgt=u(4, 9) if rng.random() < 0.2 else u(8, 30),
                    col=_colour(rng, FACADES[rng.integers(len(FACADES))], 15),
                    win=_grey(rng, 20, 110) * (0.6, 0.8, 1.0) + (0, 10, 30),
                    lit=_colour(rng, (230, 210, 150) if rng.random() < 0.3 else sc["sky_hor"]),
                    floor=u(2.9, 3.6), step=u(2.3, 4), ww=u(0.8, 1.6), wh=u(1.1, 1.8), shop=rng.random() < 0.5,
                    pattern=int(rng.integers(1 << 30))))
            z += length
    z = u(0, 20)
    while z < far * 0.7:
        kind = rng.choice(["lamp", "sign", "plain", "light"], p=[0.4, 0.35, 0.1, 0.15])
        objs.append(dict(kind="pole", x=edge + s * u(0.3, 0.7), z=z, s=s, type=kind,
                         hgt=u(6, 9) if kind == "lamp" else u(2.8, 4.5), col=_grey(rng, 40, 160),
                         sign=_colour(rng, SIGNS[rng.integers(4)]), shape=int(rng.integers(3)),
                         lit=int(rng.integers(3))))
        z += u(12, 35)
    if rng.random() < 0.5:  # street trees along the kerb
        z = u(0, 15)
        while z < far * 0.6:
            objs.append(_tree(rng, edge + s * u(0.8, max(1.0, walk - 0.4)), z))
            z += u(7, 16)
    if terrain:
        objs.extend(_tree(rng, edge + s * (walk + u(0, terrain)), u(3, 60), bush=True)
                    for _ in range(int(rng.integers(0, 8))))
    return walk, terrain


def _tree(rng, x, z, bush=False):
    u = rng.uniform
    autumn = rng.random() < 0.15
    green = (u(140, 190), u(90, 130), u(30, 60)) if autumn else (u(35, 95), u(70, 135), u(25, 70))
    return dict(kind="tree", x=x, z=z, trunk=0.0 if bush else u(1.8, 3.5),
                r=u(0.5, 1.2) if bush else u(1.3, 3.0),
                col=np.array(green), blobs=rng.uniform(-0.7, 0.7, (int(rng.integers(3, 7)), 3)),
                bark=_grey(rng, 50, 100) * (1.1, 0.95, 0.8))


def _make_traffic(rng, sc, objs, far):
    """Parked cars and lanes of traffic, one speed per lane so nothing drives through anything."""
    u = rng.uniform
    (n, lw, first_fwd), lane0 = sc["lanes"], sc["lane0"]
    ego_lane = int(-lane0 // lw)
    parking = [n >= 3 and rng.random() < 0.5 and ego_lane != k for k in (0, n - 1)]  # outer lanes, never ours
    for k in range(n):
        x = lane0 + (k + 0.5) * lw
        if (k == 0 and parking[0]) or (k == n - 1 and parking[1]):
            z = u(2, 15)
            while z < far * 0.5:
                if rng.random() < 0.8:
                    heading = rng.choice([0.0, math.pi]) + u(-0.05, 0.05)
                    objs.append(_vehicle(rng, x - np.sign(x) * u(0.3, 0.8), z, heading, 0.0))
                z += u(5.5, 9)
            continue
        ego = k == ego_lane
        heading = 0.0 if k >= first_fwd else math.pi
        v = (sc["cam_v"] + u(0, 2)) if ego else u(6, 11)  # ego-lane traffic pulls away from the camera
        z = u(8, 30) if ego else u(4, 25)  # near end of the next vehicle
        while z < far * 0.8:
            if rng.random() < 0.15:  # motorbikes, and a few bicycles, share the lane
                kind = MOTORCYCLE if rng.random() < 0.75 else BICYCLE
                objs.append(_bike(rng, kind, x + u(-0.5, 0.5), z + 1, heading, v))
                z += u(6, 30)
            else:
                objs.append(_vehicle(rng, x + u(-0.3, 0.3), z, heading, v))
                objs[-1]["z"] += objs[-1]["l"] / 2
                z += objs[-1]["l"] + u(4, 40)
    for s, width in zip((-1, 1), sc["bike_lanes"]):  # cyclists: the right bike lane forward, the left oncoming
        if width:
            v, z = u(3, 6), u(4, 20)
            x = lane0 - width / 2 if s < 0 else lane0 + n * lw + width / 2
            while z < far * 0.5:
                objs.append(_bike(rng, BICYCLE, x, z, 0.0 if s > 0 else math.pi, v))
                z += u(5, 40)
    if sc["cross"]:
        zc, wc = sc["cross"]
        for d in (-1, 1):
            v, x = u(4, 9), u(-45, -25)
            while x < 40:
                if rng.random() < 0.3:
                    objs.append(_vehicle(rng, x, zc + wc * (0.5 - 0.2 * d), d * math.pi / 2, v))
                x += u(8, 30)


def _vehicle(rng, x, z, heading, speed):
    u = rng.uniform
    kind = rng.choice([CAR, TRUCK, BUS], p=[0.78, 0.11, 0.11])
    col = _paint(rng)
    return dict(kind="vehicle", type=kind, x=x, z=z, heading=heading, vx=speed * math.sin(heading),
                vz=speed * math.cos(heading), l={CAR: u(3.8, 4.9), TRUCK: u(6, 9), BUS: u(10, 12.5)}[kind],
                w=u(1.7, 1.9) if kind == CAR else u(2.3, 2.55), hgt=1.5 if kind == CAR else 3.2, col=col,
                cargo=_grey(rng, 180, 240) if rng.random() < 0.6 else col,
                glass=_grey(rng, 20, 70) * (0.8, 0.9, 1.0),
                body=u(0.85, 1.05), roof=u(1.35, 1.6), cabin=u(-0.1, 0.05))


def _bike(rng, kind, x, z, heading, speed, rider=True):
    return dict(kind="bike", type=kind, x=x, z=z, heading=heading, vx=speed * math.sin(heading),
                vz=speed * math.cos(heading), l=1.8, w=0.6, hgt=1.6 if rider else 1.0, col=_any_colour(rng),
                rider=_look(rng) if rider else None, helmet=_any_colour(rng))


def _look(rng, moving=True):
    """A person's size, clothes, skin, hair and gait."""
    return dict(k=rng.uniform(0.85, 1.1), top=_any_colour(rng), legs=_any_colour(rng) * rng.choice([0.6, 1.0]),
                skin=_colour(rng, SKINS[rng.integers(4)], 8), hair=_grey(rng, 10, 90) * (1.2, 1.0, 0.8),
                phase=rng.uniform(0, 2 * math.pi), moving=moving)


def _make_people(rng, sc, objs):
    u = rng.uniform
    (rl, rr), walk = sc["road"], sc["walk"]
    for _ in range(int(rng.integers(1, 10))):  # pedestrians on the sidewalks, denser near the camera
        s = rng.choice([-1, 1])
        edge, w = (rl, walk[0]) if s < 0 else (rr, walk[1])
        moving = rng.random() < 0.7
        heading = (rng.choice([0.0, math.pi]) + u(-0.2, 0.2)) if moving else u(0, 2 * math.pi)
        speed = u(1.0, 1.6) if moving else 0.0
        objs.append(dict(kind="person", x=edge + s * u(0.3, w - 0.3), z=3 + 60 * u() ** 1.5, heading=heading,
                         vx=speed * math.sin(heading), vz=speed * math.cos(heading), hgt=1.7,
                         **_look(rng, moving)))
    if sc["cross"] and rng.random() < 0.5:  # on the zebra crossing
        for _ in range(int(rng.integers(1, 5))):
            d = rng.choice([-1, 1])
            objs.append(dict(kind="person", x=u(rl, rr), z=sc["cross"][0] - u(1, 4), heading=d * math.pi / 2,
                             vx=d * u(1, 1.5), vz=0.0, hgt=1.7, **_look(rng)))
    for _ in range(int(rng.integers(0, 3))):  # parked bicycles (and the odd motorbike), in little rows
        s = rng.choice([-1, 1])
        edge, w = (rl, walk[0]) if s < 0 else (rr, walk[1])
        z, heading = u(4, 35), u(0, 2 * math.pi)
        for i in range(int(rng.integers(1, 4))):
            kind = MOTORCYCLE if rng.random() < 0.2 else BICYCLE
            x = edge + s * u(0.5, max(0.6, w - 0.5))
            objs.append(_bike(rng, kind, x, z + 0.7 * i, heading + u(-0.2, 0.2), 0.0, rider=False))


# ---------------------------------------------------------------- drawing

def _draw_sky_and_ground(cv):
    sc, (height, width) = cv.scene, cv.lab.shape
    t = np.clip(np.arange(height, dtype=np.float32) / max(cv.cy, 1), 0, 1)[:, None, None] ** 0.8
    cv.img[:] = sc["sky_top"] * (1 - t) + sc["sky_hor"] * t
    cloud = cv2.resize(sc["clouds"].astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    cloud = np.clip((cloud - 1 + sc["cloudiness"]) * 2.5, 0, 0.85)[..., None]
    cv.img[:] = cv.img * (1 - cloud) + (sc["sky_hor"] * 0.55 + 105) * cloud
    cv.lab[:] = SKY
    r0 = max(0, math.floor(cv.cy + 0.5) + 1)  # first row strictly below the horizon
    if r0 >= height:
        return
    # Per pixel: the ground point it sees, then what lies there.
    d = (cv.f * cv.h / (np.arange(r0, height, dtype=np.float32) - cv.cy))[:, None]
    x = (np.arange(width, dtype=np.float32)[None] - cv.cx) * d / cv.f
    z = np.broadcast_to(d + cv.z, x.shape)
    (rl, rr), (n, lw, first_fwd), lane0 = sc["road"], sc["lanes"], sc["lane0"]
    left = x < (rl + rr) / 2
    out = np.where(left, rl - x, x - rr)  # metres beyond the kerb, <= 0 on the road
    walk = np.where(left, sc["walk"][0], sc["walk"][1])
    lab = np.full(x.shape, SIDEWALK, np.uint8)
    lab[(out > walk) & (out <= walk + np.where(left, sc["terrain"][0], sc["terrain"][1]))] = TERRAIN
    lab[out <= 0] = ROAD
    crossing = np.zeros(x.shape, bool)
    if sc["cross"]:
        zc, wc = sc["cross"]
        crossing = (z > zc) & (z < zc + wc)
        lab[(z > zc - 3) & (z < zc + wc + 3) & (out > 0)] = SIDEWALK
        lab[crossing] = ROAD
    # Texture lives on the ground plane: it shrinks with distance and moves with the camera.
    wrap = dict(interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    fine = cv2.remap(sc["tile"], np.mod(x * 7, 64), np.mod(z * 7, 64), **wrap)[..., None]
    coarse = cv2.remap(sc["tile"], np.mod(x * 0.6 + 20, 64), np.mod(z * 0.6, 64), **wrap)[..., None]
    cols = np.zeros((256, 3), np.float32)
    cols[ROAD], cols[SIDEWALK], cols[TERRAIN] = sc["road_col"], sc["walk_col"], sc["terrain_col"]
    amp = np.where(lab == TERRAIN, 0.7, 0.3)[..., None]
    g = cols[lab] * (1 + amp * (fine - 0.5) + 0.4 * (coarse - 0.5))
    g[(lab == SIDEWALK) & ((np.mod(x * 2, 1) < 0.06) | (np.mod(z * 2, 1) < 0.06)) & (d < 25)] *= 0.75  # paving
    on_road = (out <= 0) & ~crossing
    g[on_road & ((x < lane0) | (x > lane0 + n * lw))] *= sc["bike_tint"].astype(np.float32)
    marks = np.zeros(x.shape, bool)
    for k in range(n + 1):  # lane lines; solid in the centre and next to bike lanes
        if 0 < k < n or sc["bike_lanes"][k // n] > 0:
            solid = k == first_fwd or k in (0, n)
            marks |= on_road & (np.abs(x - lane0 - k * lw) < 0.07) & (solid | (np.mod(z, 9) < 3))
    g[marks] = np.asarray(sc["centre_col"]) * (0.8 + 0.3 * fine[marks])
    if sc["cross"]:
        zebra = (out <= 0) & (z > zc - 4.5) & (z < zc - 0.5) & (np.mod(x - rl, 1.1) < 0.55)
        g[zebra] = 215 * (0.8 + 0.3 * fine[zebra])
    cv.img[r0:], cv.lab[r0:] = g, lab


def _draw_shadows(cv, objs):
    """Darken the ground under and beside things; shadows change the image, never the labels."""
    sc = cv.scene
    sun, shade = np.asarray(sc["sun"]), np.ones(cv.lab.shape, np.float32)
    for o in objs:
        base = np.array([o["x"], o["z"]])
        if o["kind"] == "tree":  # the canopy's shadow, thrown away from the sun
            base = base - sun * (o["trunk"] + o["r"]) * sc["shadow_len"]
            size, h, height = (2 * o["r"],) * 2, 0.0, 0.0
        elif o["kind"] in ("vehicle", "person", "bike"):
            size, h, height = (o.get("l", 0.5), o.get("w", 0.5)), o["heading"], o["hgt"]
        else:
            continue
        d = np.array([math.sin(h), math.cos(h)]) * size[0] / 2
        p = np.array([math.cos(h), -math.sin(h)]) * size[1] / 2
        foot = np.array([base + d + p, base + d - p, base - d - p, base - d + p])
        foot = np.concatenate([foot, foot - sun * height * sc["shadow_len"]])
        pts = np.stack([foot[:, 0], np.zeros(len(foot)), foot[:, 1]], 1)
        if cv.depth(pts).min() > NEAR:
            hull = cv2.convexHull(np.round(cv.project(pts) * 4).astype(np.int32))
            cv2.fillPoly(shade, [hull], float(sc["shadow"]), shift=2)
    cv.img *= shade[..., None]


def _draw_facade(cv, o, origin, axis, length, col):
    """A vertical building face from ``origin`` along the horizontal unit ``axis``, windows in a grid."""
    a0 = 0.0
    if axis[2] > 0:  # runs away from the camera: clip at the near plane
        a0 = max(0.0, cv.z + NEAR - origin[2])
    elif origin[2] - cv.z < NEAR:
        return
    if a0 >= length:
        return

    def quad(a, b, y0, y1):
        p, q = origin + a * axis, origin + b * axis
        return np.array([p + y0 * UP, p + y1 * UP, q + y1 * UP, q + y0 * UP])

    h = o["hgt"]
    cv.fill([cv.project(quad(a0, length, 0, h))], col, BUILDING)
    cv.fill([cv.project(quad(a0, length, h - 0.5, h))], col * 0.8, BUILDING)  # cornice
    if o["shop"]:
        cv.fill([cv.project(quad(max(a0, 0.5), length - 0.5, 0.4, 2.8))], o["win"] * 0.8, BUILDING)
    windows = [(a, y) for a in np.arange(0.6, length - o["ww"] - 0.3, o["step"])
               for y in np.arange(o["floor"] + 0.9, h - o["wh"] - 0.7, o["floor"])]
    # A fixed hash picks the lit windows, so they do not flicker in the video.
    lit = [(i * 2654435761 + o["pattern"]) % 7 == 0 for i in range(len(windows))]
    for on, col in ((False, o["win"]), (True, o["lit"])):
        group = [quad(a, a + o["ww"], y, y + o["wh"]) for (a, y), w in zip(windows, lit) if w == on and a >= a0]
        if group:
            cv.fill(list(cv.project(np.concatenate(group)).reshape(-1, 4, 2)), col, BUILDING)


def _draw_block(cv, o):
    s, origin, col = o["s"], np.array([o["x"], 0.0, o["z0"]]), o["col"]
    _draw_facade(cv, o, origin, np.array([s, 0.0, 0.0]), 25.0, col * _shade(cv.scene, (0, -1)))  # front
    _draw_facade(cv, o, origin, np.array([0.0, 0.0, 1.0]), o["z"] - o["z0"], col * _shade(cv.scene, (-s, 0)))


def _draw_skyline(cv, o):
    x, h, z = o["x"], o["hgt"], o["z"]
    cv.fill([cv.project([[x, 0, z], [x, h, z], [x + o["w"], h, z], [x + o["w"], 0, z]])], o["col"], BUILDING)


def _draw_barrier(cv, o):
    """A wall, or a fence of thin slats the background shows through, along the street."""
    x, h, z0, z1 = o["x"], o["hgt"], max(o["z0"], cv.z + NEAR), o["z"]
    if z0 >= z1:
        return
    col = o["col"] * _shade(cv.scene, (-np.sign(x), 0))

    def band(y0, y1):
        return [[x, y0, z0], [x, y1, z0], [x, y1, z1], [x, y0, z1]]

    if o["kind"] == "wall":
        cv.fill([cv.project(band(0, h))], col, WALL)
        cv.fill([cv.project(band(h - 0.15, h))], col * 0.7, WALL)
        return
    slats = np.arange(math.ceil(z0 / 0.18) * 0.18, z1, 0.18)  # a fixed grid: no crawling in the video
    polys = [[[x, 0, a], [x, h, a], [x, h, a + 0.06], [x, 0, a + 0.06]] for a in slats]
    polys += [band(y, y + 0.08) for y in (0.3, h - 0.2)]
    cv.fill(list(cv.project(np.array(polys)).reshape(-1, 4, 2)), col, FENCE)


def _draw_pole(cv, o):
    if o["z"] - cv.z < NEAR + 1:
        return
    x, z, h, s = o["x"], o["z"], o["hgt"], cv.scale(o["z"])
    foot, top = cv.project([[x, 0, z], [x, h, z]])
    cv.line(foot, top, o["col"], POLE, (0.18 if o["type"] == "lamp" else 0.1) * s)
    c = cv.project([[x, h - 0.45, z]])[0]
    if o["type"] == "lamp":
        end = cv.project([[x - o["s"] * 1.6, h + 0.2, z]])[0]
        cv.line(top, end, o["col"], POLE, 0.1 * s)
        cv.line(end, end + (0.4 * s * -o["s"], 0), (220, 220, 200), POLE, 0.15 * s)
    elif o["type"] == "light":
        housing = np.array([[-0.18, -0.5], [0.18, -0.5], [0.18, 0.5], [-0.18, 0.5]]) * s + c
        cv.fill([housing], (25, 28, 25), LIGHT)
        for i, lamp in enumerate(((230, 40, 30), (240, 180, 30), (40, 220, 90))):
            lamp = np.array(lamp) * (1.0 if i == o["lit"] else 0.25)
            cv.disk(c + (0, (i - 1) * 0.3 * s), 0.11 * s, lamp, LIGHT)
    elif o["type"] == "sign" and o["shape"] == 0:
        cv.disk(c, 0.33 * s, (235, 235, 235), SIGN)
        cv.disk(c, 0.26 * s, o["sign"], SIGN)
    elif o["type"] == "sign":
        square = [[-0.3, 0.3], [0.3, 0.3], [0.3, -0.3], [-0.3, -0.3]]
        triangle = [[-0.38, -0.3], [0.38, -0.3], [0, 0.38]]
        cv.fill([np.array(square if o["shape"] == 1 else triangle) * s + c], o["sign"], SIGN)


def _draw_tree(cv, o):
    if o["z"] - cv.z < NEAR + o["r"]:
        return
    x, z, s = o["x"], o["z"], cv.scale(o["z"])
    if o["trunk"]:
        foot, top = cv.project([[x, 0, z], [x, o["trunk"] + o["r"], z]])
        cv.line(foot, top, o["bark"], VEGETATION, 0.3 * s)
    centre = cv.project([[x, o["trunk"] + o["r"] * 0.8, z]])[0]
    for i, (dx, dy, tone) in enumerate(o["blobs"]):
        c, r = centre + np.array([dx, -dy]) * o["r"] * s, o["r"] * (0.6 + 0.1 * (i % 3)) * s
        cv.disk(c, r, o["col"] * (0.85 + 0.3 * tone), VEGETATION)
        cv.disk(c - r * 0.25, r * 0.55, o["col"] * (1.1 + 0.3 * tone), VEGETATION)  # the sunlit top of a clump


def _draw_box(cv, c, d, hl, hw, y0, y1, col, label, glass=None, glass_col=None):
    """Fill the faces of an oriented box that face the camera; footprint centre c=(x, z), heading d=(dx, dz).

    ``glass`` (along0, along1, up0, up1) insets a window on every side face. Returns the drawn
    faces as (outward normal, corners(along0, along1, y0, y1) -> 4 world points).
    """
    p, cam, faces = np.array([d[1], -d[0]]), np.array([0.0, cv.z]), []
    for n, half, other in ((d, hl, hw), (-d, hl, hw), (p, hw, hl), (-p, hw, hl)):
        fc = c + n * half
        if np.dot(n, cam - fc) <= 0:
            continue
        a, b = fc - np.array([n[1], -n[0]]) * other, fc + np.array([n[1], -n[0]]) * other

        def corners(s0, s1, g0, g1, a=a, b=b):
            q0, q1 = a + (b - a) * s0, a + (b - a) * s1
            return np.array([[q0[0], g0, q0[1]], [q0[0], g1, q0[1]], [q1[0], g1, q1[1]], [q1[0], g0, q1[1]]])

        cv.fill([cv.project(corners(0, 1, y0, y1))], col * _shade(cv.scene, n), label)
        if glass:
            g0, g1 = y0 + glass[2] * (y1 - y0), y0 + glass[3] * (y1 - y0)
            cv.fill([cv.project(corners(glass[0], glass[1], g0, g1))], glass_col, label)
        faces.append((n, corners))
    if y1 < cv.h:  # roof, seen from above
        top = [c + d * hl + p * hw, c + d * hl - p * hw, c - d * hl - p * hw, c - d * hl + p * hw]
        cv.fill([cv.project([[q[0], y1, q[1]] for q in top])], col * 1.05, label)
    return faces


def _draw_vehicle(cv, o):
    h, c = o["heading"], np.array([o["x"], o["z"]])
    d, p = np.array([math.sin(h), math.cos(h)]), np.array([math.cos(h), -math.sin(h)])
    hl, hw = o["l"] / 2, o["w"] / 2
    if min(cv.depth([[0, 0, (c + d * i * hl + p * j * hw)[1]] for i in (-1, 1) for j in (-1, 1)])) < NEAR:
        return
    label, col = o["type"], o["col"]
    # parts: (offset along heading, half length, half width, bottom, top, colour, glass, has wheels)
    if label == CAR:
        windows = (0.08, 0.92, 0.08, 0.9)
        parts = [(0.0, hl, hw, 0.3, o["body"], col, None, True),
                 (o["cabin"] * o["l"], hl * 0.5, hw * 0.88, o["body"], o["roof"], col, windows, False)]
        r = 0.32
    elif label == TRUCK:
        parts, r = [(hl - 1.1, 1.1, hw, 0.45, 2.8, col, (0.1, 0.9, 0.55, 0.9), True),
                    (-1.2, hl - 1.3, hw, 0.6, 3.5, o["cargo"], None, True)], 0.5
    else:
        parts, r = [(0.0, hl, hw, 0.3, 3.1, col, (0.03, 0.97, 0.4, 0.85), True)], 0.5
    parts.sort(key=lambda q: -np.linalg.norm(c + d * q[0] - (0, cv.z)))  # the farther part first
    for a, phl, phw, y0, y1, pcol, glass, wheels in parts:
        pc = c + d * a
        faces = _draw_box(cv, pc, d, phl, phw, y0, y1, pcol, label, glass, o["glass"])
        for n, corners in faces if wheels else ():
            cv.fill([cv.project(corners(0.02, 0.98, 0, y0))], (18, 18, 20), label)  # underbody and tyres
            if abs(np.dot(n, d)) < 0.5:  # a side: round wheels
                for along in (-1, 1):
                    hub = pc + d * along * (phl - r * 1.7) + n * phw
                    ring = [[hub[0] + d[0] * r * math.cos(t), r + r * math.sin(t),
                             hub[1] + d[1] * r * math.cos(t)] for t in np.linspace(0, 2 * math.pi, 16)]
                    cv.fill([cv.project(ring)], (22, 22, 24), label)
            elif y0 < 0.5:  # an end: rear or head lamps
                lamp = (200, 25, 20) if np.dot(n, d) < 0 else (235, 230, 200)
                lamps = [cv.project(corners(0.04, 0.2, 0.5, 0.65)), cv.project(corners(0.8, 0.96, 0.5, 0.65))]
                cv.fill(lamps, lamp, label)


def _draw_figure(cv, j, look, label):
    """A person from world joints ``j``: thick limbs, a torso, a head (hair only when walking away)."""
    k, s = look["k"], cv.scale(j["hip"][2])
    P = {name: cv.project(point)[0] for name, point in j.items()}
    for side in "lr":
        cv.line(P["hip" + side], P["knee" + side], look["legs"], label, 0.15 * k * s)
        cv.line(P["knee" + side], P["foot" + side], look["legs"], label, 0.13 * k * s)
    cv.fill([np.array([P["shl"], P["shr"], P["hipr"], P["hipl"]])], look["top"], label)
    cv.line(P["hip"], P["neck"], look["top"], label, 0.25 * k * s)
    for side in "lr":
        cv.line(P["sh" + side], P["hand" + side], look["top"], label, 0.09 * k * s)
    cv.disk(P["head"], 0.12 * k * s, look.get("helmet", look["hair"]), label)
    if not look["away"] and "helmet" not in look:
        cv.disk(P["head"] + (0, 0.03 * k * s), 0.095 * k * s, look["skin"], label)


def _draw_person(cv, o):
    if o["z"] - cv.z < NEAR + 1:
        return
    h, k, base = o["heading"], o["k"], np.array([o["x"], 0.0, o["z"]])
    d, p = np.array([math.sin(h), 0, math.cos(h)]), np.array([math.cos(h), 0, -math.sin(h)])
    # The gait follows the distance walked, so legs move in step in the video.
    swing = math.sin(o["phase"] + (o["z"] + o["x"]) * 4.5) if o["moving"] else 0.1
    j = {"hip": base + UP * 0.92 * k, "neck": base + UP * 1.48 * k, "head": base + UP * 1.62 * k}
    for side, sg in (("l", 1), ("r", -1)):
        j["hip" + side] = base + (p * 0.1 * sg + UP * 0.92) * k
        j["knee" + side] = base + (p * 0.1 * sg + d * 0.15 * sg * swing + UP * 0.5) * k
        j["foot" + side] = base + (p * 0.1 * sg + d * 0.3 * sg * swing + UP * 0.05) * k
        j["sh" + side] = base + (p * 0.19 * sg + UP * 1.42) * k
        j["hand" + side] = base + (p * 0.23 * sg - d * 0.25 * sg * swing + UP * 0.8) * k
    _draw_figure(cv, j, dict(o, away=d[2] > 0), PERSON)


def _draw_bike(cv, o):
    """Bicycle or motorcycle in side geometry, so it reads as one from the side and as a sliver end-on."""
    x, z = o["x"], o["z"]
    if z - cv.z < NEAR + 1.5:
        return
    h, motor, label = o["heading"], o["type"] == MOTORCYCLE, o["type"]
    d, p = np.array([math.sin(h), 0, math.cos(h)]), np.array([math.cos(h), 0, -math.sin(h)])

    def B(a, y, lat=0.0):  # bike frame (along, up, sideways) -> world
        return np.array([x, 0.0, z]) + d * a + UP * y + p * lat

    s, r = cv.scale(z), 0.32 if motor else 0.34
    for hub in (B(-0.55, r), B(0.55, r)):
        ring = [hub + (d * math.cos(t) + UP * math.sin(t)) * r for t in np.linspace(0, 2 * math.pi, 20)]
        ring = [np.round(cv.project(ring) * 4).astype(np.int32)]
        cv2.fillPoly(cv.lab, ring, label, shift=2)  # the whole wheel is labelled, as in Cityscapes polygons
        if motor:
            cv2.fillPoly(cv.img, ring, (20.0, 20.0, 20.0), shift=2)
        else:  # a thin tyre: the background shows through the wheel
            cv2.polylines(cv.img, ring, True, (20.0, 20.0, 20.0), max(1, round(0.05 * s)), shift=2)
    rb, bb, seat, head, fh = cv.project([B(-0.55, r), B(0, 0.3), B(-0.2, 0.9), B(0.4, 0.9), B(0.55, r)])
    if motor:
        flat = d[[0, 2]]  # seen end-on, a motorbike is a narrow block
        _draw_box(cv, np.array([x, z]) - flat * 0.1, flat, 0.6, 0.22, 0.35, 0.75, o["col"] * 0.5, label)
        body = [B(-0.6, 0.55), B(-0.35, 0.85), B(0.25, 0.95), B(0.5, 0.95), B(0.55, 0.4), B(0.1, 0.25)]
        cv.fill([cv.project(body)], o["col"], label)
        cv.line(head, fh, (60, 60, 60), label, 0.06 * s)
    else:
        bar = cv.project(B(0.36, 1.05))[0]
        for a, b in ((rb, bb), (bb, seat), (seat, rb), (seat, head), (bb, head), (head, fh), (head, bar)):
            cv.line(a, b, o["col"], label, 0.04 * s)
        saddle = cv.project([B(-0.3, 0.92), B(-0.1, 0.92)])
        cv.line(saddle[0], saddle[1], (25, 25, 25), label, 0.06 * s)
    ends = cv.project([B(0.36, 1.05, 0.28), B(0.36, 1.05, -0.28)])
    cv.line(ends[0], ends[1], (40, 40, 40), label, 0.035 * s)
    if o["rider"] is None:
        return
    look = dict(o["rider"], away=d[2] > 0, **({"helmet": o["helmet"]} if motor else {}))
    pedal = look["phase"] + z * 2.0
    lean = 0.0 if motor else 0.1  # cyclists lean further forward
    j = {"hip": B(-0.22, 0.95), "neck": B(lean, 1.47), "head": B(lean + 0.08, 1.62)}
    for side, sg in (("l", 1), ("r", -1)):
        crank = 0.0 if motor else 0.17 * math.sin(pedal + (sg > 0) * math.pi)
        j["hip" + side] = B(-0.22, 0.95, 0.12 * sg)
        j["knee" + side] = B(0.12, 0.7 + crank * 0.5, 0.15 * sg)
        j["foot" + side] = B(-0.05, 0.35, 0.14 * sg) if motor else B(crank, 0.3 + crank, 0.14 * sg)
        j["sh" + side] = B(0.05, 1.4, 0.19 * sg)
        j["hand" + side] = B(0.38, 1.05, 0.26 * sg)
    _draw_figure(cv, j, look, RIDER)


_DRAW = {"block": _draw_block, "skyline": _draw_skyline, "wall": _draw_barrier, "fence": _draw_barrier,
         "pole": _draw_pole, "tree": _draw_tree, "vehicle": _draw_vehicle, "person": _draw_person,
         "bike": _draw_bike}


def _near_depth(o):
    """Painter's key: an object's nearest footprint depth, so a long bus beside the camera covers what
    lies behind its near end. Blocks, walls and fences keep their far end in "z" and so go first."""
    h = o.get("heading", 0.0)
    return o["z"] - abs(math.cos(h)) * o.get("l", 0.0) / 2 - abs(math.sin(h)) * o.get("w", 0.0) / 2


def _render(sc, rng, height, width, t=0.0):
    """Draw scene ``sc`` at time ``t`` seconds; ``rng`` only adds sensor noise."""
    cv = _Canvas(height, width, sc, sc["cam_v"] * t)
    _draw_sky_and_ground(cv)
    objs = [dict(o, x=o["x"] + o.get("vx", 0.0) * t, z=o["z"] + o.get("vz", 0.0) * t) for o in sc["objects"]]
    objs = [o for o in objs if o["z"] > cv.z]
    _draw_shadows(cv, objs)
    for o in sorted(objs, key=_near_depth, reverse=True):
        _DRAW[o["kind"]](cv, o)
    return _finish(cv, rng)


def _finish(cv, rng):
    """The ego car's bonnet, then camera effects: uneven light, colour cast, contrast, gamma, blur, noise."""
    sc, (height, width) = cv.scene, cv.lab.shape
    if sc["hood"]:
        frac, col = sc["hood"]
        edge = height * (1 - frac * (1 - 0.6 * ((np.arange(width) - cv.cx) / (width / 2)) ** 2))
        rows = np.arange(height, dtype=np.float32)[:, None]
        glare = np.clip((rows - edge) / (frac * height), 0, 1)[..., None]  # sky reflection fading downwards
        hood = rows >= edge
        bonnet = col * (0.5 + 0.5 * glare) + sc["sky_hor"] * 0.4 * (1 - glare)
        cv.img[:] = np.where(hood[..., None], bonnet, cv.img)
        cv.lab[hood] = EGO
    light = cv2.resize(sc["light"], (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    img = cv.img * (0.8 + 0.4 * light) * np.float32(sc["gain"]) * sc["cast"].astype(np.float32)
    img = (img - 128) * np.float32(sc["contrast"]) + 128
    img = 255 * (np.clip(img, 0, 255) / 255) ** np.float32(sc["gamma"])
    img = cv2.GaussianBlur(img, (0, 0), sc["blur"])
    img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sc["noise"])
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), cv.lab


# ---------------------------------------------------------------- public API

def _check_count(name, value, minimum=0):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def render_scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Render one random street scene: (image uint8 HxWx3 RGB, Cityscapes label ids uint8 HxW)."""
    _check_count("height", height, MIN_SIZE)
    _check_count("width", width, MIN_SIZE)
    return _render(_make_scene(rng), rng, height, width)


def sample_name(split, index):
    """(city, Cityscapes-style stem) of image ``index`` of ``split``, e.g. ``aachen_synth_000000_000019``."""
    cities = CITIES[split]
    city = cities[index % len(cities)]
    return city, f"{city}_{index // len(cities):06d}_{FRAME_ID:06d}"


def _run_task(task):
    """Write one image and its mask (returns None), or render one video frame (returns it)."""
    kind, out, seed, index, height, width, extra = task
    if kind == "frame":
        scene = _make_scene(np.random.default_rng([seed, 2]), travel=11.0 * extra / VIDEO_FPS)
        return _render(scene, np.random.default_rng([seed, 2, index]), height, width, t=index / VIDEO_FPS)[0]
    split = extra
    rng = np.random.default_rng([seed, list(CITIES).index(split), index])
    image, label_ids = render_scene(rng, height, width)
    city, stem = sample_name(split, index)
    # compress_level=1: faster than the default and barely larger on these noisy images
    Image.fromarray(image).save(Path(out, "leftImg8bit", split, city, f"{stem}_leftImg8bit.png"), compress_level=1)
    Image.fromarray(label_ids).save(Path(out, "gtFine", split, city, f"{stem}_gtFine_labelIds.png"), compress_level=1)
    return None


def _worker_init():
    cv2.setNumThreads(1)  # one process per core already


def _results(tasks, workers):
    """Task results in order. Spawned workers (not forked) stay safe inside threaded callers."""
    if workers < 2 or len(tasks) < 8:
        yield from map(_run_task, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init) as pool:
        yield from pool.imap(_run_task, tasks, chunksize=2)


def generate(out_dir, train=300, val=60, height=256, width=512, seed=0, video_frames=48, progress=None,
             workers=2) -> dict:
    """Write synthcity to ``out_dir`` in the Cityscapes layout, with ``video/drive.mp4`` and ``synthcity.json``.

    Image i of split s (train 0, val 1) is rendered from ``np.random.default_rng([seed, s, i])``,
    so the files do not depend on ``workers`` (0 or 1: no subprocesses). Worker processes are
    spawned: a calling script needs the usual ``if __name__ == "__main__":`` guard.
    ``progress(done, total)`` is called after each image and each video frame. The video is
    H.264 yuv420p at 10 fps, frames height x width (padded by a pixel where a size is odd, as yuv420p
    needs). Returns the parameters plus ``out_dir``, ``video`` (path or None), ``images``, ``seconds``.
    """
    for name, value in (("train", train), ("val", val), ("video_frames", video_frames), ("seed", seed),
                        ("workers", workers)):
        _check_count(name, value)
    _check_count("height", height, MIN_SIZE)
    _check_count("width", width, MIN_SIZE)
    start, out = time.perf_counter(), Path(out_dir)
    tasks = []
    for split, count in (("train", train), ("val", val)):
        for city in CITIES[split]:
            for top in ("leftImg8bit", "gtFine"):
                folder = Path(out, top, split, city)
                folder.mkdir(parents=True, exist_ok=True)
                for stale in folder.glob(f"{city}_*.png"):  # a smaller rerun must not leave old samples behind
                    stale.unlink()
        tasks += [("image", str(out), seed, i, height, width, split) for i in range(count)]
    tasks += [("frame", str(out), seed, t, height, width, video_frames) for t in range(video_frames)]
    video, writer = out / "video" / "drive.mp4", None
    video.unlink(missing_ok=True)
    if video_frames:
        video.parent.mkdir(parents=True, exist_ok=True)
        writer = write_frames(str(video), (width + width % 2, height + height % 2), fps=VIDEO_FPS,
                              codec="libx264", pix_fmt_out="yuv420p", quality=6, macro_block_size=2,
                              ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
        writer.send(None)
    try:
        for done, frame in enumerate(_results(tasks, workers), 1):
            if frame is not None:
                frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
                writer.send(np.ascontiguousarray(frame))
            if progress is not None:
                progress(done, len(tasks))
    finally:
        if writer is not None:
            writer.close()
    params = dict(version=VERSION, train=train, val=val, height=height, width=width, seed=seed,
                  video_frames=video_frames, video_fps=VIDEO_FPS)
    (out / "synthcity.json").write_text(json.dumps(params, indent=2) + "\n")
    return dict(params, out_dir=str(out), video=str(video) if video_frames else None,
                images={"train": train, "val": val}, seconds=time.perf_counter() - start)
