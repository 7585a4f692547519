"""Scene layout: one random street in world metres, as plain dicts (camera, sky, road, objects).

Nothing here draws; the street, traffic and render modules turn these dicts into pixels.
"""
import math

import numpy as np

from .world import BICYCLE, BUS, CAR, MOTORCYCLE, TRUCK

# Real car paint is mostly white, grey and black: exactly what makes colour ambiguous.
PAINTS = ((235, 235, 232), (185, 187, 190), (135, 137, 140), (90, 92, 96), (28, 28, 32),
          (25, 35, 75), (135, 25, 28), (45, 75, 140), (60, 85, 60), (200, 180, 140), (215, 170, 40))
PAINT_P = (0.18, 0.15, 0.14, 0.10, 0.15, 0.05, 0.07, 0.06, 0.03, 0.04, 0.03)
FACADES = ((205, 198, 186), (170, 166, 160), (122, 122, 124), (88, 88, 94), (188, 160, 124),
           (150, 82, 62), (218, 206, 170), (110, 100, 90), (176, 190, 200), (232, 226, 215))
SKINS = ((235, 200, 170), (205, 155, 115), (150, 100, 70), (95, 65, 45))
SIGNS = ((200, 30, 30), (30, 70, 170), (235, 235, 235), (230, 190, 30))


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


def make_scene(rng, travel=0.0):
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
            else:  # "z" is the far end: see render
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
