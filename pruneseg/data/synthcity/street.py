"""Drawing the static street: sky and textured ground, buildings, walls and fences, poles, trees."""
import math

import cv2
import numpy as np

from .world import (BUILDING, FENCE, LIGHT, NEAR, POLE, ROAD, SIDEWALK, SIGN, SKY, TERRAIN, UP, VEGETATION,
                    WALL, shade)



def draw_sky_and_ground(cv):
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


def draw_block(cv, o):
    s, origin, col = o["s"], np.array([o["x"], 0.0, o["z0"]]), o["col"]
    _draw_facade(cv, o, origin, np.array([s, 0.0, 0.0]), 25.0, col * shade(cv.scene, (0, -1)))  # front
    _draw_facade(cv, o, origin, np.array([0.0, 0.0, 1.0]), o["z"] - o["z0"], col * shade(cv.scene, (-s, 0)))


def draw_skyline(cv, o):
    x, h, z = o["x"], o["hgt"], o["z"]
    cv.fill([cv.project([[x, 0, z], [x, h, z], [x + o["w"], h, z], [x + o["w"], 0, z]])], o["col"], BUILDING)


def draw_barrier(cv, o):
    """A wall, or a fence of thin slats the background shows through, along the street."""
    x, h, z0, z1 = o["x"], o["hgt"], max(o["z0"], cv.z + NEAR), o["z"]
    if z0 >= z1:
        return
    col = o["col"] * shade(cv.scene, (-np.sign(x), 0))

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


def draw_pole(cv, o):
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


def draw_tree(cv, o):
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
