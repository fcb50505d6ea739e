"""`make lab` opens the exercises in JupyterLab with nbgrader's extension enabled."""
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def lab_command():
    """The command `make lab` runs, read from the Makefile so the test follows it."""
    out = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if "jupyter lab" in l)
    return line.split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    port = free_port()
    cmd = lab_command() + ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                           "--IdentityProvider.token=", "--ServerApp.password="]
    cmd[0] = str(Path(sys.executable).parent / "jupyter")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {proc.stdout.read()[-3000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("JupyterLab did not start in 60 s")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_lab_serves_the_exercises_folder(lab):
    listing = json.load(urllib.request.urlopen(f"{lab}/api/contents/01-perceptron"))
    names = [item["name"] for item in listing["content"]]
    assert "perceptron.ipynb" in names, f"the lab's root is not exercises/: {names}"


def test_nbgrader_lab_extension_is_enabled(lab):
    page = urllib.request.urlopen(f"{lab}/lab").read().decode()
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    federated = [ext["name"] for ext in config.get("federated_extensions", [])]
    assert "@jupyter/nbgrader" in federated, f"nbgrader's extension is not loaded: {federated}"
    disabled = config.get("disabledExtensions", [])
    assert not [d for d in disabled if "nbgrader" in d], f"nbgrader extensions disabled: {disabled}"
