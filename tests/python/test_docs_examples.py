"""The Python examples of README.md and docs/*.md, run on the installed wheel in a copy of the
s1 community (so `text_archives/...` paths resolve). A block marked ```` ```python no-run:
REASON ```` is compiled, and the names it imports from thywill_core must exist. The rule:
docs/architecture.md, "Examples in docs are tests"."""

import ast
import importlib
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(path: Path) -> list[tuple[int, str | None, str]]:
    """Each ```python block of `path`: its line, its no-run reason (None when it runs), its code."""
    blocks: list[tuple[int, str | None, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        info = lines[index].strip()
        if not info.startswith("```"):
            index += 1
            continue
        start = index
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip().startswith("```"))
        kind, _, rest = info[3:].strip().partition(" ")
        if kind == "python":
            rest = rest.strip()
            reason = rest.removeprefix("no-run:").strip() if rest.startswith("no-run:") else None
            assert rest == "" or reason, f"{path.name}:{start + 1}: unknown option {rest!r}"
            blocks.append((start + 1, reason, "\n".join(lines[start + 1 : end]) + "\n"))
        index = end + 1
    return blocks


def thywill_imports(tree: ast.AST) -> list[tuple[str, str | None]]:
    """(module, name) for every import from thywill_core in `tree`; name None for `import m`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("thywill_core"):
            found.extend((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((a.name, None) for a in node.names if a.name.startswith("thywill_core"))
    return found


def check_imports(place: str, tree: ast.AST) -> None:
    for module_name, name in thywill_imports(tree):
        module = importlib.import_module(module_name)
        if name is not None and not hasattr(module, name):
            try:
                importlib.import_module(f"{module_name}.{name}")  # a submodule?
            except ImportError:
                pytest.fail(f"{place}: {module_name} has no {name}")


def test_docs_examples_python_blocks_run(community: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(community)
    counts: dict[str, Counter[str]] = {}
    for path in documents():
        blocks = python_blocks(path)
        name = str(path.relative_to(ROOT))
        tally = counts.setdefault(name, Counter())
        for line, reason, code in blocks:
            place = f"{name}:{line}"
            tree = compile(code, place, "exec", ast.PyCF_ONLY_AST)
            compiled = compile(code, place, "exec")
            check_imports(place, tree)
            if reason is not None:
                tally["no-run (compiled, imports checked)"] += 1
                continue
            # A compat one-liner replaces the module it is the body of: give it a module
            # name of its own and forget it afterwards.
            module_name = f"docs_example_{path.stem.replace('-', '_')}_{line}"
            try:
                exec(compiled, {"__name__": module_name})
            finally:
                sys.modules.pop(module_name, None)
            tally["run"] += 1
        if blocks:
            assert sum(tally.values()) == len(blocks), f"{name}: {tally} of {len(blocks)} blocks"
            assert tally, f"{name}: has python blocks, none was checked"
    print({name: dict(tally) for name, tally in counts.items() if tally})
    assert sum(sum(t.values()) for t in counts.values()) >= 10
    assert counts["README.md"]["run"] == 2
