"""The records PruneSeg jobs write and its pages read: one definition each, torch-free.

A record is a JSON object whose keys a ``TypedDict`` declares; ``read_record`` checks a file
against it and raises ``RecordError`` naming the file when it is missing, cut short or lacks a
key, so a page can show a clear problem instead of raising. Writes are atomic
(``pruneseg.jsonio.write_json``): a reader never sees half a file.

Where each record is defined:

========================  ===========================================  ===============================
record                    file                                          definition
========================  ===========================================  ===============================
training run              ``runs/<run>/config.json``, ``*.jsonl``      ``records.run``
analysis                  ``analyses/<name>.json``                     ``records.analysis``
verified point            ``analyses/<name>.verify-*.json``            ``records.analysis``
pruning state             ``pruned/<run>/pruning.json``                ``records.pruning``
export, quantization      ``deploy/<name>/export.json``, ``quantize.json``  ``records.deploy``
package manifest          ``packages/<name>/manifest.json``            ``pruneseg.target.manifest``
perf and video results    ``target/perf/*.json``, ``target/videos/*.json``  ``pruneseg.target.results``
inspection                ``inspect/<name>.json`` (+ ``.predictions.npz``)   ``records.inspection``
frontier                  ``frontier/<name>.json``                     ``records.frontier``
demo                      ``demos/<name>.json``                        ``records.demo``
latency comparison        ``target/latency/*.json``                    ``pruneseg.target.results``
model checkpoint          ``runs/<run>/*.pt``, ``pruned/<run>/*.pt``   ``records.checkpoint``
job                       ``jobs/<id>/job.json``, ``state.json``       ``pruneseg.jobs``
========================  ===========================================  ===============================

The manifest and the results live with the torch-free target runner, which must run without
the rest of the package. A checkpoint is not JSON but ``torch.save`` of plain values; its schema is
declared here all the same, and ``pruneseg.checkpoint`` writes and checks it.
"""
import hashlib
import json
from pathlib import Path

from pruneseg.errors import PruneSegError
from pruneseg.jsonio import write_json


class RecordError(PruneSegError):
    """A record file that is missing, unreadable, cut short or incomplete; the message names it."""


def read_record(path, schema, what=None):
    """The JSON object in ``path``, checked to hold every key ``schema`` (a TypedDict) requires.

    Args:
        what: the record's name in messages (default: the schema's name).
    Raises:
        RecordError naming ``path``.
    """
    path = Path(path)
    what = what or schema.__name__
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RecordError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecordError(f"{path}: unreadable {what} ({error})") from error
    try:
        record = json.loads(text)
    except ValueError as error:
        detail = "empty file" if not text.strip() else f"cut short or not JSON: {error}"
        raise RecordError(f"{path}: unreadable {what} ({detail})") from error
    if not isinstance(record, dict):
        raise RecordError(f"{path}: not a {what} (a JSON object was expected)")
    missing = [key for key in schema.__annotations__ if key in schema.__required_keys__ and key not in record]
    if missing:
        raise RecordError(f"{path}: not a complete {what} ({', '.join(missing)} missing)")
    return record


def write_record(path, record):
    """Write ``record`` to ``path`` atomically, making its folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record)


def read_jsonl(path):
    """Records of a JSON-lines file (an empty list when missing); a line being written is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def file_sha256(path):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
