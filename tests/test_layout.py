"""The rules the tree keeps (README "Layout"): no import cycles between recon's modules (imports inside
functions count too), no module over 450 lines, no ``_private`` name imported from another module, generic
code never imports a modality package, nothing imports ``recon.cli``, and ``import recon`` stays light."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "recon"
GENERIC = ("recon.operators", "recon.functionals", "recon.solvers", "recon.backend", "recon.vectors",
           "recon._checks", "recon._compiled")
MODALITIES = ("recon.ct", "recon.ptycho", "recon.fusion", "recon.learned", "recon.apps", "recon.cli")


def _modules():
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _imports(mods):
    """``{module: [(imported module, imported name or None)]}`` for imports of recon's own modules."""
    found = {}
    for mod, path in mods.items():
        is_package = path.name == "__init__.py"
        rows = found.setdefault(mod, [])
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                rows += [(a.name, None) for a in node.names if a.name in mods]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_package else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)] + ([node.module] if node.module else [])
                    base = ".".join(base)
                else:
                    base = node.module or ""
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    target = full if full in mods else base
                    if target in mods:
                        rows.append((target, None if target == full else alias.name))
    return found


MODS = _modules()
IMPORTS = _imports(MODS)


def _within(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_no_import_cycles():
    # a package's __init__ importing its own submodules (and back) is not a cycle of meaning
    graph = {m: {t for t, _ in rows if not t.startswith(m + ".") and not m.startswith(t + ".")}
             for m, rows in IMPORTS.items()}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_module_over_450_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODS.values() if (n := p.read_text().count("\n")) > 450}
    assert not long, long


def test_no_private_name_crosses_modules():
    crossing = [f"{m} imports {t}.{name}" for m, rows in IMPORTS.items() for t, name in rows
                if name and name.startswith("_") and not name.startswith("__")]
    assert not crossing, crossing


def test_generic_code_imports_no_modality_and_nothing_imports_cli():
    wrong = [f"{m} imports {t}" for m, rows in IMPORTS.items() for t, _ in rows
             if _within(m, GENERIC) and _within(t, MODALITIES)]
    wrong += [f"{m} imports {t}" for m, rows in IMPORTS.items() for t, _ in rows
              if _within(t, ("recon.cli",)) and not _within(m, ("recon.cli",)) and m != "recon.__main__"]
    assert not wrong, wrong


@pytest.mark.parametrize("module", ["recon", "recon.ct", "recon.ptycho", "recon.fusion", "recon.learned"])
def test_import_recon_stays_light(module):
    code = (f"import sys, {module}\n"
            "print(','.join(m for m in ('numba', 'torch', 'dask', 'matplotlib') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"import {module} imported {run.stdout.strip()}"
