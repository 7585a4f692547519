"""Drawing the road users: vehicles as boxes, people as stick figures, bikes with or without riders."""
import math

import cv2
import numpy as np

from .world import CAR, MOTORCYCLE, NEAR, PERSON, RIDER, TRUCK, UP, shade



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

        cv.fill([cv.project(corners(0, 1, y0, y1))], col * shade(cv.scene, n), label)
        if glass:
            g0, g1 = y0 + glass[2] * (y1 - y0), y0 + glass[3] * (y1 - y0)
            cv.fill([cv.project(corners(glass[0], glass[1], g0, g1))], glass_col, label)
        faces.append((n, corners))
    if y1 < cv.h:  # roof, seen from above
        top = [c + d * hl + p * hw, c + d * hl - p * hw, c - d * hl - p * hw, c - d * hl + p * hw]
        cv.fill([cv.project([[q[0], y1, q[1]] for q in top])], col * 1.05, label)
    return faces


def draw_vehicle(cv, o):
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


def draw_person(cv, o):
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


def draw_bike(cv, o):
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
