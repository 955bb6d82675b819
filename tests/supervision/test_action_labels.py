"""Every action code recorded anywhere in ``govshare`` has its label and article on the ledger pages.

The codes are read from the source, not from a run: each ``events.record(...)`` call's ``action``
is resolved statically (literals, module constants, f-strings, ``+``, ``a if c else b``, and the
parameters of helpers such as ``_event(session, resource, "published", by)`` through every call of
the helper). An ``action`` the collector cannot resolve fails the test too, so a new way of
naming actions has to be taught here rather than slip past the table.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import govshare
from govshare.portal import i18n
from govshare.supervision import actions

SRC = Path(govshare.__file__).resolve().parent


class Unresolved(Exception):
    pass


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    #: local name -> (module, name) for ``from M import name [as local]``
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: local name -> module for ``import M as local`` / ``from P import M``
    modules: dict[str, str] = field(default_factory=dict)


def _load() -> dict[str, Module]:
    mods: dict[str, Module] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        mods[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    for m in mods.values():
        for node in m.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                m.constants[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                m.constants[node.target.id] = node.value
        for node in ast.walk(m.tree):
            if isinstance(node, ast.FunctionDef):
                m.functions.setdefault(node.name, node)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in mods:
                        m.modules[alias.asname or alias.name] = full
                    else:
                        m.imported[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        m.modules[alias.asname] = alias.name
    return mods


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


class Collector:
    def __init__(self) -> None:
        self.mods = _load()
        self.parents = {name: _parents(m.tree) for name, m in self.mods.items()}

    def enclosing(self, mod: Module, node: ast.AST) -> ast.FunctionDef | None:
        parents = self.parents[mod.name]
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def where(self, mod: Module, node: ast.AST) -> str:
        return f"{mod.path.relative_to(SRC.parent)}:{getattr(node, 'lineno', '?')}"

    def is_record(self, mod: Module, call: ast.Call) -> bool:
        # ``record`` adds an event to a session; ``new_recorded`` makes one for a writer that appends
        # on its own connection (the gateway's call recorder): both name the action the same way.
        f = call.func
        names = ("record", "new_recorded")
        if isinstance(f, ast.Attribute) and f.attr in names and isinstance(f.value, ast.Name):
            return mod.modules.get(f.value.id) == "govshare.core.events"
        if isinstance(f, ast.Name) and f.id in names:
            return (
                mod.imported.get(f.id) == ("govshare.core.events", f.id)
                or mod.name == "govshare.core.events"
                and f.id == "record"
            )
        return False

    def record_calls(self) -> Iterator[tuple[Module, ast.Call]]:
        for mod in self.mods.values():
            for node in ast.walk(mod.tree):
                if isinstance(node, ast.Call) and self.is_record(mod, node):
                    yield mod, node

    def calls_of(self, mod: Module, fn: ast.FunctionDef) -> Iterator[tuple[Module, ast.Call]]:
        """Every call of ``fn`` (defined in ``mod``): in its module, and where it is imported."""
        for other in self.mods.values():
            local = {fn.name} if other is mod else {k for k, v in other.imported.items() if v == (mod.name, fn.name)}
            aliases = {k for k, v in other.modules.items() if v == mod.name}
            for node in ast.walk(other.tree):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                if (isinstance(f, ast.Name) and f.id in local) or (
                    isinstance(f, ast.Attribute)
                    and f.attr == fn.name
                    and isinstance(f.value, ast.Name)
                    and f.value.id in aliases
                ):
                    yield other, node

    def argument(self, fn: ast.FunctionDef, call: ast.Call, param: str) -> ast.expr | None:
        for kw in call.keywords:
            if kw.arg == param:
                return kw.value
        positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        if param in positional and positional.index(param) < len(call.args):
            return call.args[positional.index(param)]
        defaults = dict(zip(positional[len(positional) - len(fn.args.defaults) :], fn.args.defaults, strict=True))
        kw_defaults = {a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d}
        return defaults.get(param) or kw_defaults.get(param)

    def values(self, mod: Module, node: ast.expr, depth: int = 0) -> set[str]:
        if depth > 8:
            raise Unresolved(f"{self.where(mod, node)}: too deep")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.JoinedStr):
            parts: list[set[str]] = []
            for v in node.values:
                inner = v.value if isinstance(v, ast.FormattedValue) else v
                parts.append(self.values(mod, inner, depth + 1))
            return {"".join(p) for p in itertools.product(*parts)}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.values(mod, node.left, depth + 1), self.values(mod, node.right, depth + 1)
            return {a + b for a in left for b in right}
        if isinstance(node, ast.IfExp):
            return self.values(mod, node.body, depth + 1) | self.values(mod, node.orelse, depth + 1)
        if isinstance(node, ast.Name):
            fn = self.enclosing(mod, node)
            params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)} if fn else set()
            if fn is not None and node.id in params:
                found: set[str] = set()
                for caller, call in self.calls_of(mod, fn):
                    arg = self.argument(fn, call, node.id)
                    if arg is None:
                        raise Unresolved(f"{self.where(caller, call)}: no {node.id!r} in this call of {fn.name}")
                    found |= self.values(caller, arg, depth + 1)
                return found
            if node.id in mod.constants:
                return self.values(mod, mod.constants[node.id], depth + 1)
            if node.id in mod.imported:
                source, name = mod.imported[node.id]
                if source in self.mods and name in self.mods[source].constants:
                    return self.values(self.mods[source], self.mods[source].constants[name], depth + 1)
        raise Unresolved(
            f"{self.where(mod, node)}: cannot read the action from {ast.unparse(node)!r}; "
            "record a literal code (or teach this test the new form)"
        )

    def actions(self) -> dict[str, list[str]]:
        """Every recorded action code -> where it is recorded."""
        out: dict[str, list[str]] = {}
        for mod, call in self.record_calls():
            action = next((kw.value for kw in call.keywords if kw.arg == "action"), None)
            if action is None:
                raise Unresolved(f"{self.where(mod, call)}: events.record without action=")
            for code in self.values(mod, action):
                out.setdefault(code, []).append(self.where(mod, call))
        return out


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[str]]:
    return Collector().actions()


def test_the_collector_finds_the_actions_of_every_form(recorded: dict[str, list[str]]) -> None:
    # literal, f-string through a helper's parameter, helper called with a literal, "+" with a
    # conditional, and a module constant: one of each, so a collector gone blind fails here
    for code in (
        "registry.agency.created",
        "catalog.resource.published",
        "catalog.demand.routed",
        "exchange.filing.report_submitted",
        "guide.service.activated",
        "registry.person.reactivated",
        "registry.person.deactivated",
        "calendar.schedule.imported",
        "catalog.resource.revision_approved",
    ):
        assert code in recorded, code
    assert len(recorded) >= 40


def test_every_recorded_action_has_a_label_and_an_article(recorded: dict[str, list[str]]) -> None:
    missing = sorted(f"{code}  ({', '.join(where)})" for code, where in recorded.items() if code not in actions.ACTIONS)
    assert not missing, (
        "actions recorded without an entry in govshare/supervision/actions.py ACTIONS:\n  " + "\n  ".join(missing)
    )
    for code, info in actions.ACTIONS.items():
        assert info.label and info.article.startswith("Art "), code
        assert i18n.article_label(info.article, "zh").startswith("《办法》第"), code


def test_the_table_holds_no_stale_codes(recorded: dict[str, list[str]]) -> None:
    stale = sorted(set(actions.ACTIONS) - set(recorded))
    assert not stale, f"labels for actions nothing records any more: {stale}"


def test_labels_have_their_english() -> None:
    for code in actions.ACTIONS:
        zh, en = actions.label(code, "zh"), actions.label(code, "en")
        assert zh.label == actions.ACTIONS[code].label
        assert en.label != zh.label and en.label.isascii(), code
        assert en.article_label.endswith("of the Measures"), code
    for kind in actions.SUBJECTS:
        assert actions.subject_kind(kind, "en").isascii(), kind
    unknown = actions.label("some.future.action", "en")
    assert unknown.label == "some.future.action" and unknown.article is None


def test_the_collector_reports_what_it_cannot_read() -> None:
    c = Collector()
    mod = next(iter(c.mods.values()))
    with pytest.raises(Unresolved):
        c.values(mod, ast.parse("make_action()", mode="eval").body)
