"""The README's promises: the quick start is install+demo, the test command and the slow-test command (CI runs
the last two), the example runs."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_blocks(lang):
    text = (ROOT / "README.md").read_text()
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if line.strip() == f"```{lang}" and not inside:
            inside, current = True, []
        elif line.startswith("```") and inside:
            inside = False
            blocks.append(current)
        elif inside:
            current.append(line)
    return blocks


def test_readme_quick_start_is_three_commands_and_ci_runs_the_tests():
    quick = _readme_blocks("bash")[0]
    assert len(quick) == 3, quick
    assert quick[0].startswith("pip install . && recon demo")
    run = subprocess.run(["bash", str(ROOT / ".ci" / "run"), "--print-command"], capture_output=True, text=True,
                         timeout=30, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == quick[1]
    assert "pytest" in quick[1]
    assert "pytest" in quick[2] and "-m slow" in quick[2]


def test_readme_example_runs(capsys):
    from recon.metrics import psnr

    code = "\n".join(_readme_blocks("python")[0])
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.strip()
    x_true, y, result = namespace["x_true"], namespace["y"], namespace["result"]
    assert psnr(result.x, x_true) > psnr(y, x_true) + 2.0  # TV deblurring sharpens the phantom
