"""Synthcity: a procedural street-scene dataset written in the real Cityscapes layout.

A pinhole camera at height h looks down a straight street over a flat ground plane. Everything
is placed in world metres (x lateral, y up, z depth) and projected, far to near (painter's
algorithm), so perspective, scale and occlusion come for free, and the driving video only moves
the camera and the traffic. Class colours overlap on purpose (grey cars on grey asphalt under
grey skies, clothing in any colour): per-pixel colour is a poor cue, shape and context are good.
"""
from .write import CITIES, VERSION, VIDEO_FPS, generate, sample_name
from .render import MIN_SIZE, render_scene
from .world import LABEL_IDS

__all__ = ["CITIES", "LABEL_IDS", "MIN_SIZE", "VERSION", "VIDEO_FPS", "generate", "render_scene", "sample_name"]
