#!/usr/bin/env python3
"""Checks a Rust crate's imports: no two files import each other, and no cycle
among the crate's top-level modules.

    python3 .ci/imports.py CRATE/src [CRATE/src ...] [-v]

Each argument is a crate's `src` directory. Its crate roots are `lib.rs`,
`main.rs` and `bin/*.rs` (`bin/*/main.rs`); the module tree is followed from
each root through its `mod` declarations (`a.rs` + `a/`, `a/mod.rs`, inline
`mod a { .. }`, `#[path = ".."]`).

What counts as file A importing file B: a path in A (`use crate::..`,
`use super::..`, `use self::child::..`, `crate::x::f()` or `child::f()` in
code, `$crate::..` in a macro) that names an item defined in B. Paths are resolved through the
modules' `use` declarations, globs included, so `use crate::Error` imports the
file that defines `Error`, not `lib.rs` that re-exports it. A `pub use` whose
names the file does not use itself is a re-export (a facade), not an import.
Paths to other crates (std, tokio, ...) are not followed.

Test code is left out: files of modules declared under `#[cfg(test)]`, files
named `tests.rs` or `*_tests.rs` (and everything under a `tests/` module),
any item under `#[cfg(test)]`, and inline `mod tests { .. }` blocks.

Reported, with the import that makes each edge:
- every pair of files that import each other (parent and child included:
  what both need goes in a small module below both);
- every cycle among the top-level modules (`client` -> `streams` -> `client`),
  the crate root counting as the module `crate`.

Exit status: 0 when nothing is reported, 1 otherwise, 2 on a usage error
(an argument that is not a directory, or a directory without a crate root).
With -v, every file-level edge is printed too.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

# ---- tokens -------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lcomment>//[^\n]*)
  | (?P<bcomment>/\*)
  | (?P<rawstr>b?r\#*")
  | (?P<str>b?"(?:\\.|[^"\\])*")
  | (?P<char>b?'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])')
  | (?P<lifetime>'[A-Za-z_]\w*)
  | (?P<ident>r\#[A-Za-z_]\w*|[A-Za-z_]\w*)
  | (?P<num>\d[\w]*(?:\.\d[\w]*)?)
  | (?P<path>::)
  | (?P<punct>.)
    """,
    re.X | re.S,
)


@dataclass
class Tok:
    kind: str  # "ident", "path" (::), "punct", "lit"
    text: str
    line: int


def tokenize(src: str) -> list[Tok]:
    """Rust source to tokens, without comments and with literals blanked."""
    out: list[Tok] = []
    i, n, line = 0, len(src), 1
    while i < n:
        m = _TOKEN.match(src, i)
        assert m is not None
        kind = m.lastgroup
        start = i
        if kind == "bcomment":
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
        elif kind == "rawstr":
            hashes = m.group("rawstr").count("#")
            end = src.find('"' + "#" * hashes, m.end())
            i = n if end < 0 else end + 1 + hashes
            out.append(Tok("lit", '""', line))
        else:
            i = m.end()
            text = m.group(kind)
            if kind in ("str", "char"):
                out.append(Tok("lit", '""', line))
            elif kind == "num":
                out.append(Tok("lit", text, line))
            elif kind in ("ident", "path", "punct"):
                out.append(Tok(kind, text, line))
            # whitespace, line comments and lifetimes carry nothing we need
        line += src.count("\n", start, i)
    return out


# ---- modules ------------------------------------------------------------------------

ModPath = tuple  # of str; () is the crate root

ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "union", "static", "const", "mod"}
PRELUDE = {
    "Option", "Some", "None", "Result", "Ok", "Err", "Vec", "String", "Box",
    "ToString", "ToOwned", "Clone", "Copy", "Default", "Debug", "Send", "Sync",
    "Sized", "Fn", "FnMut", "FnOnce", "Drop", "Iterator", "IntoIterator", "Extend",
    "From", "Into", "TryFrom", "TryInto", "AsRef", "AsMut", "PartialEq", "Eq",
    "PartialOrd", "Ord", "Hash", "Self", "Unpin",
}


@dataclass
class UseDecl:
    path: list[str]  # what is imported, as written (`crate`, `super`, ... first)
    local: str  # the name it takes here; "*" for a glob; "_" for `as _`
    public: bool  # a `pub`/`pub(..)` use: maybe only a re-export
    line: int
    in_item: bool  # inside a function or other block: not part of the module's names


@dataclass
class Module:
    path: ModPath
    file: str
    is_test: bool
    children: dict = field(default_factory=dict)  # name -> ModPath
    defined: set = field(default_factory=set)  # items declared here
    weak: set = field(default_factory=set)  # type-like names inside macro calls here
    uses: list = field(default_factory=list)  # UseDecl
    refs: list = field(default_factory=list)  # (segments, line) of paths in code


class Crate:
    def __init__(self, root_file: str):
        self.root_file = root_file
        self.modules: dict[ModPath, Module] = {}
        self.idents: dict[str, set] = {}  # file -> identifiers used in its non-test code
        self._load(root_file, (), is_test=False, dir_for_children=os.path.dirname(root_file))

    # -- loading ----------------------------------------------------------------

    def _load(self, file: str, mpath: ModPath, is_test: bool, dir_for_children: str) -> None:
        name = os.path.basename(file)
        stem = name[:-3]
        if name == "tests.rs" or stem.endswith("_tests") or "tests" in mpath:
            is_test = True
        with open(file, encoding="utf-8") as f:
            toks = tokenize(f.read())
        if _file_is_test(toks):
            is_test = True
        self.modules[mpath] = Module(mpath, file, is_test)
        self.idents.setdefault(file, set())
        _Parser(self, file, toks, mpath, is_test, dir_for_children).run()

    def declare_child(
        self, parent: ModPath, name: str, file_dir: str, path_attr: str | None, is_test: bool
    ) -> None:
        mpath = parent + (name,)
        self.modules[parent].children[name] = mpath
        if path_attr is not None:
            file = os.path.normpath(os.path.join(file_dir, path_attr))
            child_dir = os.path.dirname(file) if os.path.basename(file) == "mod.rs" else file[:-3]
        else:
            file = os.path.join(file_dir, name + ".rs")
            child_dir = os.path.join(file_dir, name)
            if not os.path.exists(file):
                file = os.path.join(file_dir, name, "mod.rs")
        if not os.path.exists(file):
            print(f"warning: no file for `mod {name};` under {file_dir}", file=sys.stderr)
            return
        self._load(file, mpath, is_test or self.modules[parent].is_test, child_dir)

    # -- name resolution ----------------------------------------------------------

    def resolve(self, ctx: ModPath, segs: list[str], seen=None):
        """What a path written in module `ctx` names: ("mod", path),
        ("item", path of the module defining it), or None (another crate)."""
        if seen is None:
            seen = set()
        if not segs:
            return ("mod", ctx)
        first, rest = segs[0], segs[1:]
        if first in ("crate", "$crate"):
            return self._walk((), rest, seen)
        if first == "super":
            m = ctx[:-1]
            while rest and rest[0] == "super":
                m, rest = m[:-1], rest[1:]
            return self._walk(m, rest, seen)
        if first == "self":
            return self._walk(ctx, rest, seen)
        # A path without a prefix starts from a name in scope here.
        found = self._lookup(ctx, first, seen, relative=True)
        if found is None:
            return None
        return self._continue(found, rest, seen)

    def _continue(self, found, rest, seen):
        if not rest:
            return found
        if found[0] == "mod":
            return self._walk(found[1], rest, seen)
        return found  # an item's associated items live with it

    def _walk(self, m: ModPath, segs: list[str], seen):
        if m not in self.modules:
            return None
        if not segs:
            return ("mod", m)
        found = self._lookup(m, segs[0], seen, relative=False)
        if found is None:
            return None
        return self._continue(found, segs[1:], seen)

    def _lookup(self, m: ModPath, name: str, seen, relative: bool):
        """The thing `name` names in module `m`'s namespace."""
        key = (m, name)
        if key in seen:
            return None
        seen = seen | {key}
        mod = self.modules.get(m)
        if mod is None:
            return None
        if name in mod.children:
            return ("mod", mod.children[name])
        for u in mod.uses:
            if u.local == name and not u.in_item:
                return self.resolve(m, u.path, seen)
        if name in mod.defined:
            return ("item", m)
        found = self._through_globs(mod, m, name, seen)
        if found is not None:
            return found
        if name in mod.weak:
            return ("item", m)
        if relative:
            return None  # another crate, or the prelude
        if name in PRELUDE:
            return None
        return ("item", m)  # made by a macro, or a name this script missed

    def _lookup_strict(self, m: ModPath, name: str, seen):
        """Like `_lookup`, but only when `m` surely has the name (for globs)."""
        mod = self.modules.get(m)
        if mod is None:
            return None
        if (
            name in mod.children
            or name in mod.defined
            or name in mod.weak
            or any(u.local == name and not u.in_item for u in mod.uses)
        ):
            return self._lookup(m, name, seen, relative=False)
        return self._through_globs(mod, m, name, seen)

    def _through_globs(self, mod, m: ModPath, name: str, seen):
        """`name` as one of `m`'s glob imports (`use x::*`) surely brings it."""
        for u in mod.uses:
            if u.local == "*" and not u.in_item:
                target = self.resolve(m, u.path, seen)
                if target is not None and target[0] == "mod":
                    found = self._lookup_strict(target[1], name, seen)
                    if found is not None:
                        return found
        return None

    def names_of(self, m: ModPath, seen=None) -> set:
        """Every name module `m` surely offers (for what a glob brings in)."""
        if seen is None:
            seen = set()
        if m in seen or m not in self.modules:
            return set()
        seen.add(m)
        mod = self.modules[m]
        names = set(mod.children) | mod.defined | mod.weak
        for u in mod.uses:
            if u.in_item:
                continue
            if u.local == "*":
                target = self.resolve(m, u.path)
                if target is not None and target[0] == "mod":
                    names |= self.names_of(target[1], seen)
            elif u.local != "_":
                names.add(u.local)
        return names

    # -- edges ----------------------------------------------------------------------

    def file_of(self, thing) -> str | None:
        if thing is None:
            return None
        mod = self.modules.get(thing[1])
        return None if mod is None else mod.file

    def edges(self) -> dict:
        """(from file, to file) -> a description of one import that makes it."""
        out: dict = {}
        test_files = {m.file for m in self.modules.values() if m.is_test}

        def add(src_mod: Module, target, line: int, what: str) -> None:
            dst = self.file_of(target)
            if dst is None or dst == src_mod.file or dst in test_files:
                return
            out.setdefault((src_mod.file, dst), f"{src_mod.file}:{line}: {what}")

        for mod in self.modules.values():
            if mod.is_test:
                continue
            used = self.idents[mod.file]
            for u in mod.uses:
                if u.local == "*":
                    target = self.resolve(mod.path, u.path)
                    if target is None:
                        continue
                    if target[0] == "item":  # `use Enum::*`
                        add(mod, target, u.line, "use " + "::".join(u.path) + "::*")
                        continue
                    for name in sorted(self.names_of(target[1]) & used):
                        found = self.resolve(mod.path, u.path + [name])
                        add(mod, found, u.line, "use " + "::".join(u.path) + "::* (" + name + ")")
                    continue
                if u.public and u.local not in used:
                    continue  # a re-export only
                target = self.resolve(mod.path, u.path)
                add(mod, target, u.line, "use " + "::".join(u.path))
            for segs, line in mod.refs:
                target = self.resolve(mod.path, segs)
                add(mod, target, line, "::".join(segs))
        return out

    def top_of(self, file: str) -> str:
        for m in self.modules.values():
            if m.file == file:
                return m.path[0] if m.path else "crate"
        return "?"


def _file_is_test(toks: list[Tok]) -> bool:
    """A file that starts with `#![cfg(test)]`."""
    i = 0
    while i + 2 < len(toks) and toks[i].text == "#" and toks[i + 1].text == "!":
        end = _match(toks, i + 2)
        if _is_cfg_test(toks[i + 3 : end]):
            return True
        i = end + 1
    return False


def _match(toks: list[Tok], i: int) -> int:
    """Index of the bracket that closes the one at `i`."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[toks[i].text]]
    j = i + 1
    while j < len(toks) and stack:
        t = toks[j].text if toks[j].kind == "punct" else None
        if t in pairs:
            stack.append(pairs[t])
        elif t in (")", "]", "}"):
            stack.pop()
        j += 1
    return j - 1


def _is_cfg_test(attr: list[Tok]) -> bool:
    """`cfg(test)` or `cfg(all(test, ..))` (not `cfg(not(test))`)."""
    text = "".join(t.text for t in attr)
    return bool(re.match(r"cfg\((all\()?test\b", text))


class _Parser:
    """One pass over a file's tokens: modules (inline ones too), items, `use`
    declarations and paths, skipping `#[cfg(test)]` items."""

    def __init__(self, crate: Crate, file: str, toks, mpath, is_test, child_dir):
        self.crate = crate
        self.file = file
        self.t = toks
        self.is_test = is_test
        # Frames: ("mod", ModPath, dir for its `mod x;` files) or ("block",).
        self.frames = [("mod", mpath, child_dir)]

    def mod_frame(self):
        for f in reversed(self.frames):
            if f[0] == "mod":
                return f
        raise AssertionError

    def at_module_level(self) -> bool:
        return self.frames[-1][0] == "mod"

    def module(self) -> Module:
        return self.crate.modules[self.mod_frame()[1]]

    def run(self) -> None:
        t, i, n = self.t, 0, len(self.t)
        attrs: list[list[Tok]] = []
        while i < n:
            tok = t[i]
            # Attributes: remember them for the item they belong to.
            if tok.text == "#" and i + 1 < n and t[i + 1].text in ("[", "!"):
                j = i + 1 if t[i + 1].text == "[" else i + 2
                if j < n and t[j].text == "[":
                    end = _match(t, j)
                    attrs.append(t[j + 1 : end])
                    i = end + 1
                    continue
            if attrs and any(_is_cfg_test(a) for a in attrs):
                if tok.text == "mod" and i + 2 < n and t[i + 2].text == ";":
                    i += 3  # a test module's file: not loaded
                else:
                    i = self.skip_item(i)
                attrs = []
                continue
            path_attr = None
            for a in attrs:
                if len(a) >= 3 and a[0].text == "path" and a[1].text == "=":
                    path_attr = a[2].text
            attrs = []
            if tok.kind == "ident":
                if not (i > 0 and t[i - 1].kind == "path"):
                    self.idents_add(tok.text)
                i = self.ident(i, path_attr)
                continue
            if tok.kind == "punct":
                if tok.text == "{":
                    self.frames.append(("block",))
                elif tok.text == "}":
                    if len(self.frames) > 1:
                        self.frames.pop()
                elif tok.text == "$" and i + 1 < n and t[i + 1].text == "crate":
                    if i + 2 < n and t[i + 2].kind == "path":
                        i = self.path_ref(i + 1, dollar=True)
                        continue
            i += 1

    def idents_add(self, name: str) -> None:
        if not self.is_test:
            self.crate.idents[self.file].add(name)

    def skip_item(self, i: int) -> int:
        """Index after the item (or field, arm, statement) starting at `i`."""
        t, n = self.t, len(self.t)
        if self.is_use(i):
            while i < n and t[i].text != ";":
                i += 1
            return i + 1
        depth = 0
        while i < n:
            x = t[i].text if t[i].kind == "punct" else None
            if x in ("(", "[", "{"):
                depth += 1
            elif x in (")", "]", "}"):
                if depth == 0:
                    return i  # the enclosing block ends: leave its `}`
                depth -= 1
                if depth == 0 and x == "}":
                    return i + 1
            elif x in (";", ",") and depth == 0:
                return i + 1
            i += 1
        return i

    def is_use(self, i: int) -> bool:
        t = self.t
        if t[i].text == "pub":
            i += 1
            if i < len(t) and t[i].text == "(":
                i = _match(t, i) + 1
        return i < len(t) and t[i].text == "use"

    def ident(self, i: int, path_attr) -> int:
        t, n = self.t, len(self.t)
        text = t[i].text
        nxt = t[i + 1] if i + 1 < n else None
        prev = t[i - 1] if i > 0 else None
        if text == "pub" and nxt is not None and nxt.text == "(":
            # `pub(crate)`, `pub(in crate::x)`: not a path to follow
            return _match(t, i + 1) + 1
        if text == "use" and not (prev is not None and prev.kind == "path"):
            return self.use_decl(i)
        if text in ("crate", "super", "self") and nxt is not None and nxt.kind == "path":
            if not (prev is not None and prev.kind == "path"):
                return self.path_ref(i)
        if (
            nxt is not None
            and nxt.kind == "path"
            and i + 2 < n
            and t[i + 2].kind == "ident"
            and text not in ("Self", "crate", "super", "self")
            and not (prev is not None and prev.kind == "path")
        ):
            # `child::f()`, `alias::Type`: resolved from the names in scope
            # here (a type's `Vec::new` or another crate's `std::mem::take`
            # resolves to nothing).
            return self.path_ref(i)
        if text == "mod" and nxt is not None and nxt.kind == "ident" and i + 2 < n:
            name = nxt.text
            if self.at_module_level():
                self.module().defined.add(name)
            if t[i + 2].text == ";":
                frame = self.mod_frame()
                self.crate.declare_child(frame[1], name, frame[2], path_attr, self.is_test)
                return i + 3
            if t[i + 2].text == "{" and (name == "tests" or name.endswith("_tests")):
                return self.skip_item(i)  # a test module, even without its cfg
            if t[i + 2].text == "{":
                frame = self.mod_frame()
                mpath = frame[1] + (name,)
                self.crate.modules[frame[1]].children[name] = mpath
                self.crate.modules[mpath] = Module(mpath, self.file, self.is_test)
                self.frames.append(("mod", mpath, os.path.join(frame[2], name)))
                return i + 3
        if text == "macro_rules" and nxt is not None and nxt.text == "!":
            if i + 2 < n and t[i + 2].kind == "ident":
                self.module().defined.add(t[i + 2].text)
            return i + 3
        if text in ITEM_KEYWORDS and nxt is not None and nxt.kind == "ident":
            name_at = i + 1
            if text == "static" and nxt.text == "mut":
                name_at += 1
            if text == "const" and nxt.text in ("fn", "unsafe", "async", "extern"):
                return i + 1
            if name_at < n and self.at_module_level() and text != "mod":
                self.module().defined.add(t[name_at].text)
            elif name_at < n and self.in_macro_call() and text != "mod":
                self.module().weak.add(t[name_at].text)
            return i + 1
        if (
            nxt is not None
            and nxt.text == "!"
            and self.at_module_level()
            and i + 2 < n
            and t[i + 2].text in ("{", "(", "[")
        ):
            self.macro_call(i + 2)
            return i + 1
        return i + 1

    def in_macro_call(self) -> bool:
        return any(f[0] == "block" and len(f) > 1 and f[1] == "macro" for f in self.frames)

    def macro_call(self, open_at: int) -> None:
        """Names a module-level macro call seems to define (`options! { Name {..} }`):
        a type-like name at the call's top level followed by a block."""
        t = self.t
        end = _match(t, open_at)
        depth = 0
        for j in range(open_at + 1, end):
            x = t[j].text if t[j].kind == "punct" else None
            if x in ("(", "[", "{"):
                depth += 1
            elif x in (")", "]", "}"):
                depth -= 1
            elif (
                depth == 0
                and t[j].kind == "ident"
                and t[j].text[:1].isupper()
                and t[j + 1].text in ("{", "(", ";")
                and t[j].text not in PRELUDE
            ):
                self.module().weak.add(t[j].text)

    def path_ref(self, i: int, dollar: bool = False) -> int:
        """A path in code starting at index `i` (`crate`, `super`, `self`, or
        a name in scope)."""
        t, n = self.t, len(self.t)
        segs = ["$crate" if dollar else t[i].text]
        line = t[i].line
        j = i + 1
        while j + 1 < n and t[j].kind == "path" and t[j + 1].kind == "ident":
            segs.append(t[j + 1].text)
            self.idents_add(t[j + 1].text)
            j += 2
        if not self.is_test:
            self.module().refs.append((segs, line))
        return j

    def use_decl(self, i: int) -> int:
        t, n = self.t, len(self.t)
        public = False
        k = i - 1
        if k >= 0 and t[k].text == ")":
            # `pub(crate) use`: find the `(`
            depth = 0
            while k >= 0:
                if t[k].text == ")":
                    depth += 1
                elif t[k].text == "(":
                    depth -= 1
                    if depth == 0:
                        break
                k -= 1
            k -= 1
        if k >= 0 and t[k].text == "pub":
            public = True
        end = i + 1
        depth = 0
        while end < n and not (t[end].text == ";" and depth == 0):
            if t[end].text == "{":
                depth += 1
            elif t[end].text == "}":
                depth -= 1
            end += 1
        in_item = not self.at_module_level()
        mod = self.module()
        for path, local, line in _use_tree(t[i + 1 : end]):
            if self.is_test:
                continue
            mod.uses.append(UseDecl(path, local, public, line, in_item))
        return end + 1


def _use_tree(toks: list[Tok], prefix=None):
    """(path, local name, line) of each leaf of a use tree."""
    prefix = list(prefix or [])
    out = []
    i, n = 0, len(toks)
    if i < n and toks[i].kind == "path" and not prefix:
        i += 1  # `use ::std::..`: another crate
        prefix = ["::"]
    segs: list[str] = []
    while i < n:
        tok = toks[i]
        if tok.kind == "ident" and tok.text != "as":
            segs.append(tok.text)
            i += 1
        elif tok.kind == "path":
            i += 1
        elif tok.text == "*":
            out.append((prefix + segs, "*", tok.line))
            return out
        elif tok.text == "{":
            end = _match(toks, i)
            inner = toks[i + 1 : end]
            # split at top-level commas
            parts, depth, start = [], 0, 0
            for j, x in enumerate(inner):
                if x.text == "{":
                    depth += 1
                elif x.text == "}":
                    depth -= 1
                elif x.text == "," and depth == 0:
                    parts.append(inner[start:j])
                    start = j + 1
            parts.append(inner[start:])
            for part in parts:
                if part:
                    out.extend(_use_tree(part, prefix + segs))
            return out
        elif tok.text == "as":
            break
        else:
            i += 1
    if not segs and not prefix:
        return out
    local = None
    if i < n and toks[i].text == "as" and i + 1 < n:
        local = toks[i + 1].text
    full = prefix + segs
    if full and full[-1] == "self":
        full = full[:-1]
    if local is None:
        local = full[-1] if full else "_"
    if full and full[0] == "::":
        return out  # another crate
    out.append((full, local, toks[0].line if toks else 0))
    return out


# ---- reports ----------------------------------------------------------------------


def sccs(nodes, succ):
    """Tarjan's strongly connected components."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(succ.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def shortest_cycle(comp, succ):
    """A shortest cycle through the component's first node (breadth first)."""
    start = comp[0]
    members = set(comp)
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(succ.get(v, ())):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp + [start]


def check(src_dir: str, verbose: bool) -> int:
    roots = []
    for name in ("lib.rs", "main.rs"):
        if os.path.exists(os.path.join(src_dir, name)):
            roots.append(os.path.join(src_dir, name))
    bin_dir = os.path.join(src_dir, "bin")
    if os.path.isdir(bin_dir):
        for entry in sorted(os.listdir(bin_dir)):
            p = os.path.join(bin_dir, entry)
            if entry.endswith(".rs"):
                roots.append(p)
            elif os.path.exists(os.path.join(p, "main.rs")):
                roots.append(os.path.join(p, "main.rs"))
    if not roots:
        print(f"{src_dir}: no lib.rs, main.rs or bin/ here", file=sys.stderr)
        sys.exit(2)
    problems = 0
    for root in roots:
        crate = Crate(root)
        edges = crate.edges()
        rel = lambda f: os.path.relpath(f, src_dir)  # noqa: E731
        if verbose:
            for (a, b), why in sorted(edges.items()):
                print(f"edge {rel(a)} -> {rel(b)}    ({why})")
        for (a, b), why in sorted(edges.items()):
            if a < b and (b, a) in edges:
                problems += 1
                print(f"{rel(root)}: {rel(a)} and {rel(b)} import each other:")
                print(f"    {why}")
                print(f"    {edges[(b, a)]}")
        succ: dict = {}
        why_top: dict = {}
        for (a, b), why in edges.items():
            ta, tb = crate.top_of(a), crate.top_of(b)
            if ta != tb:
                succ.setdefault(ta, set()).add(tb)
                why_top.setdefault((ta, tb), why)
        nodes = {crate.top_of(m.file) for m in crate.modules.values()}
        for comp in sccs(nodes, succ):
            if len(comp) < 2:
                continue
            problems += 1
            cycle = shortest_cycle(comp, succ)
            print(f"{rel(root)}: the top-level modules {', '.join(comp)} form a cycle:")
            print("    " + " -> ".join(cycle))
            for a, b in zip(cycle, cycle[1:]):
                print(f"    {a} -> {b}: {why_top[(a, b)]}")
    return problems


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    dirs = [a for a in argv if a != "-v"]
    if not dirs or any(not os.path.isdir(d) for d in dirs):
        print("usage: python3 .ci/imports.py CRATE/src [CRATE/src ...] [-v]", file=sys.stderr)
        return 2
    problems = 0
    for d in dirs:
        problems += check(d, verbose)
    if problems:
        print(f"{problems} import problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
