"""JSON files that jobs write while pages read them: atomic writes, forgiving reads."""
import json
import os
from pathlib import Path


def write_json(path, data):
    """Write ``data`` to ``path`` atomically, so a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def read_json(path):
    """A JSON file's content, or None when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
