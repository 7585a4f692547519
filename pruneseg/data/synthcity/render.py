"""One frame from a scene: objects far to near, then shadows and the camera effects (bonnet, light, noise, blur)."""
import math

import cv2
import numpy as np

from .layout import make_scene
from .street import draw_barrier, draw_block, draw_pole, draw_skyline, draw_sky_and_ground, draw_tree
from .traffic import draw_bike, draw_person, draw_vehicle
from .world import EGO, NEAR, Canvas

MIN_SIZE = 64


_DRAW = {"block": draw_block, "skyline": draw_skyline, "wall": draw_barrier, "fence": draw_barrier,
         "pole": draw_pole, "tree": draw_tree, "vehicle": draw_vehicle, "person": draw_person,
         "bike": draw_bike}


def _near_depth(o):
    """Painter's key: an object's nearest footprint depth, so a long bus beside the camera covers what
    lies behind its near end. Blocks, walls and fences keep their far end in "z" and so go first."""
    h = o.get("heading", 0.0)
    return o["z"] - abs(math.cos(h)) * o.get("l", 0.0) / 2 - abs(math.sin(h)) * o.get("w", 0.0) / 2


def render(sc, rng, height, width, t=0.0):
    """Draw scene ``sc`` at time ``t`` seconds; ``rng`` only adds sensor noise."""
    cv = Canvas(height, width, sc, sc["cam_v"] * t)
    draw_sky_and_ground(cv)
    objs = [dict(o, x=o["x"] + o.get("vx", 0.0) * t, z=o["z"] + o.get("vz", 0.0) * t) for o in sc["objects"]]
    objs = [o for o in objs if o["z"] > cv.z]
    _draw_shadows(cv, objs)
    for o in sorted(objs, key=_near_depth, reverse=True):
        _DRAW[o["kind"]](cv, o)
    return _finish(cv, rng)


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


def check_count(name, value, minimum=0):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def render_scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Render one random street scene: (image uint8 HxWx3 RGB, Cityscapes label ids uint8 HxW)."""
    check_count("height", height, MIN_SIZE)
    check_count("width", width, MIN_SIZE)
    return render(make_scene(rng), rng, height, width)
