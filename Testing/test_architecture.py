"""The architecture, enforced: the engine core knows nothing of its edges (MRML, the command
line, background runs, batch, training, benchmark), only ``mrml/`` touches Slicer, nothing in
the product imports the trainers or the benchmark, and no module imports itself in a cycle.

Imports are read from the source (every ``import``, lazy ones inside functions included), so a
rule broken in a rarely run branch still fails here.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "MedRestoreLib"
EDGES = ("mrml", "cli", "background", "batch", "training", "benchmark")
# The development tools: only they (and the CLI commands that start them) may import them.
DEVELOPMENT = ("training", "benchmark")
# Public entry points at the top that only re-export an edge: `python -m MedRestoreLib` (the CLI)
# and `MedRestoreLib.logic.MedRestoreLogic` (DESIGN.md's fixed name for the MRML logic).
ENTRY_POINTS = {"MedRestoreLib.__main__", "MedRestoreLib.logic"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def imported(path: Path, name: str, known: Set[str]) -> Set[str]:
    """Every module ``path`` imports (absolute names), at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            # `from package import module` imports the module too
            found.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known)
    return found


def graph() -> Dict[str, Set[str]]:
    known = modules()
    return {name: imported(path, name, set(known)) for name, path in known.items()}


def area(name: str) -> str:
    """'core', or the edge package a module belongs to."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in EDGES else "core"


def test_the_rules_see_every_module_and_the_known_edges():
    edges = graph()
    assert len(edges) > 80
    assert "MedRestoreLib.pipeline" in edges["MedRestoreLib.cli.commands"]
    assert "MedRestoreLib.mrml.logic" in edges["MedRestoreLib.logic"]


def test_the_core_imports_none_of_its_edges():
    offenders = sorted(f"{module} imports {target}" for module, targets in graph().items()
                       if area(module) == "core" and module not in ENTRY_POINTS
                       for target in targets if target.startswith("MedRestoreLib.") and area(target) in EDGES)
    assert not offenders, offenders


def test_only_training_benchmark_and_the_cli_commands_import_the_development_tools():
    offenders = sorted(f"{module} imports {target}" for module, targets in graph().items()
                       for target in targets
                       if target.startswith("MedRestoreLib.") and area(target) in DEVELOPMENT
                       and area(module) not in DEVELOPMENT and module != "MedRestoreLib.cli.commands")
    assert not offenders, offenders


def test_slicer_is_imported_only_in_mrml():
    offenders = sorted(f"{module} imports {target}" for module, targets in graph().items()
                       for target in targets
                       if target.split(".")[0] in ("slicer", "qt", "ctk", "MRMLCorePython")
                       and area(module) != "mrml" and module != "MedRestoreLib.logic")
    assert not offenders, offenders


def test_edges_do_not_reach_into_each_other_except_mrml_into_background_runs():
    # The panel's node files build background runs (mrml -> background), the CLI starts batches
    # (cli -> batch); nothing else crosses.
    allowed = {("mrml", "background"), ("cli", "batch"), ("cli", "training"), ("cli", "benchmark"),
               ("training", "benchmark"), ("benchmark", "training")}
    offenders = sorted(f"{module} imports {target}" for module, targets in graph().items()
                       for target in targets
                       if target.startswith("MedRestoreLib.") and area(module) in EDGES
                       and area(target) in EDGES and area(target) != area(module)
                       and (area(module), area(target)) not in allowed)
    assert not offenders, offenders


def test_no_import_cycles():
    edges = {m: {t for t in targets if t in graph_modules} for m, targets in graph().items()
             for graph_modules in [set(modules())]}
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node, counter=[0]):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert not cycles, cycles
