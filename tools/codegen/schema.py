"""Loads and checks Samsa's protocol schema files (format: tools/codegen/README.md)."""

import json
import os
import re

PRIMITIVES = {
    # schema type: (C++ type, fixed wire size or None)
    "bool": ("bool", 1),
    "int8": ("int8_t", 1),
    "int16": ("int16_t", 2),
    "int32": ("int32_t", 4),
    "int64": ("int64_t", 8),
    "uint16": ("uint16_t", 2),
    "uint32": ("uint32_t", 4),
    "float64": ("double", 8),
    "uuid": ("uuid", 16),
    "string": ("std::string", None),
    "bytes": ("bytes", None),
    "records": ("records_payload", None),
}
INTEGERS = {"int8", "int16", "int32", "int64", "uint16", "uint32"}
NULLABLE_KINDS = {"string", "bytes", "records", "array", "struct"}
KINDS = ("request", "response", "data", "test")
CPP_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char",
    "class", "const", "constexpr", "continue", "default", "delete", "do", "double", "else",
    "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
    "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "nullptr",
    "operator", "or", "private", "protected", "public", "register", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true",
    "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void",
    "volatile", "while", "xor", "requires", "concept", "co_await", "co_return", "co_yield",
}
# Names the generated code itself uses: in every struct, and in top-level message structs.
RESERVED_MEMBERS = {"encode", "decode"}
RESERVED_TOP_LEVEL = {"message_name", "api", "min_version", "max_version", "first_flexible_version"}


class SchemaError(Exception):
    pass


def snake_case(name):
    """ProduceRequest -> produce_request, ThrottleTimeMs -> throttle_time_ms."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


class Versions:
    """An inclusive version range: "3+", "0-7", "5" or "none" (empty)."""

    def __init__(self, lo, hi):
        self.lo = lo  # None when empty
        self.hi = hi  # None when open-ended

    @staticmethod
    def parse(text):
        text = str(text).strip()
        if text == "none":
            return Versions(None, None)
        m = re.fullmatch(r"(\d+)\+", text)
        if m:
            return Versions(int(m.group(1)), None)
        m = re.fullmatch(r"(\d+)-(\d+)", text)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise SchemaError("bad version range %r" % text)
            return Versions(lo, hi)
        m = re.fullmatch(r"\d+", text)
        if m:
            return Versions(int(text), int(text))
        raise SchemaError("bad version range %r" % text)

    def empty(self):
        return self.lo is None

    def intersect(self, other):
        if self.empty() or other.empty():
            return Versions(None, None)
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        if hi is not None and hi < lo:
            return Versions(None, None)
        return Versions(lo, hi)

    def covers(self, other):
        """True when every version of `other` is in self."""
        if other.empty():
            return True
        if self.empty():
            return False
        if other.lo < self.lo:
            return False
        if self.hi is None:
            return True
        return other.hi is not None and other.hi <= self.hi

    def condition(self, context, var="version"):
        """A C++ boolean expression for `var in self`, simplified knowing var is in context.

        Returns "true" or "false" when the answer does not depend on the version."""
        inside = self.intersect(context)
        if inside.empty():
            return "false"
        if self.covers(context):
            return "true"
        parts = []
        if inside.lo > context.lo:
            parts.append("%s >= %d" % (var, inside.lo))
        if inside.hi is not None and (context.hi is None or inside.hi < context.hi):
            parts.append("%s <= %d" % (var, inside.hi))
        return " && ".join(parts) if parts else "true"

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi is None:
            return "%d+" % self.lo
        if self.hi == self.lo:
            return "%d" % self.lo
        return "%d-%d" % (self.lo, self.hi)


class Type:
    def __init__(self, text):
        self.text = text
        self.is_array = text.startswith("[]")
        base = text[2:] if self.is_array else text
        self.base = base
        self.is_struct = base not in PRIMITIVES
        if self.is_struct and not re.fullmatch(r"[A-Z][A-Za-z0-9]*", base):
            raise SchemaError("unknown type %r" % text)
        if self.is_array and base == "records":
            raise SchemaError("arrays of records are not allowed")

    @property
    def kind(self):
        if self.is_array:
            return "array"
        if self.is_struct:
            return "struct"
        return self.base


class Field:
    OPTION_KEYS = {"nullable", "tag", "tagged", "default", "fields"}

    def __init__(self, row, where):
        if not isinstance(row, list) or len(row) not in (3, 4):
            raise SchemaError("%s: a field is [name, type, versions, {options}]: %r" % (where, row))
        self.name, type_text, versions = row[0], row[1], row[2]
        opts = row[3] if len(row) == 4 else {}
        where = "%s.%s" % (where, self.name)
        unknown = set(opts) - self.OPTION_KEYS
        if unknown:
            raise SchemaError("%s: unknown field options %s" % (where, sorted(unknown)))
        self.where = where
        self.type = Type(type_text)
        self.versions = Versions.parse(versions)
        self.nullable = Versions.parse(opts.get("nullable", "none"))
        self.tag = opts.get("tag")
        self.tagged = Versions.parse(opts.get("tagged", "none"))
        self.has_default = "default" in opts
        self.default = opts.get("default")
        self.inline_fields = None
        if "fields" in opts:
            if not self.type.is_struct:
                raise SchemaError("%s: only struct types have fields" % where)
            self.inline_fields = [Field(r, where) for r in opts["fields"]]
        self.snake = snake_case(self.name)
        if self.snake in CPP_KEYWORDS or self.snake in RESERVED_MEMBERS:
            self.snake += "_"
        self._check()

    def _check(self):
        if (self.tag is None) != self.tagged.empty():
            raise SchemaError("%s: 'tag' and 'tagged' go together" % self.where)
        if self.tag is not None and not self.versions.covers(self.tagged):
            raise SchemaError("%s: tagged versions outside the field's versions" % self.where)
        if self.tag is not None and self.type.kind == "records":
            raise SchemaError("%s: records cannot be tagged (they may live in files)" % self.where)
        if self.tag is not None and self.type.kind == "struct" and not self.nullable.empty():
            raise SchemaError("%s: nullable tagged structs are not supported" % self.where)
        if not self.nullable.empty() and self.type.kind not in NULLABLE_KINDS:
            raise SchemaError("%s: type %s cannot be nullable" % (self.where, self.type.text))
        if self.has_default and self.default is None and self.nullable.empty():
            raise SchemaError("%s: null default on a non-nullable field" % self.where)
        if self.has_default and self.type.kind in ("array", "struct", "records") and self.default is not None:
            raise SchemaError("%s: only null defaults for %s" % (self.where, self.type.kind))

    @property
    def is_optional(self):
        """Whether the C++ member is a std::optional (nullable in some version). Records
        carry their own null state."""
        return (not self.nullable.intersect(self.versions).empty()
                and self.type.kind in ("string", "bytes", "array", "struct"))

    def regular_versions(self):
        """Versions in which the field is a regular (in-order) field, not a tagged one."""
        if self.tag is None:
            return self.versions
        v = self.versions
        t = self.tagged
        # Tagged versions are a suffix or the whole range in every schema we write.
        if t.covers(v):
            return Versions(None, None)
        if t.hi is None and t.lo > v.lo:
            return Versions(v.lo, t.lo - 1)
        raise SchemaError("%s: tagged versions must be a suffix of the versions" % self.where)


class Struct:
    def __init__(self, name, fields, versions, where):
        self.name = name
        self.fields = fields
        self.versions = versions
        self.where = where
        self.snake = snake_case(name)
        if self.snake in CPP_KEYWORDS:
            self.snake += "_"
        names = [f.snake for f in fields]
        if len(set(names)) != len(names):
            raise SchemaError("%s: duplicate field names" % where)
        if self.snake in names:
            raise SchemaError("%s: a field has the struct's own name" % where)
        tags = [f.tag for f in fields if f.tag is not None]
        if len(set(tags)) != len(tags):
            raise SchemaError("%s: duplicate tags" % where)


class Message:
    TOP_KEYS = {"name", "kind", "api_key", "versions", "flexible", "unstable_latest", "fields", "structs"}

    def __init__(self, doc, path):
        unknown = set(doc) - self.TOP_KEYS
        if unknown:
            raise SchemaError("%s: unknown keys %s" % (path, sorted(unknown)))
        for k in ("name", "kind", "versions", "flexible", "fields"):
            if k not in doc:
                raise SchemaError("%s: missing %r" % (path, k))
        self.path = path
        self.name = doc["name"]
        self.kind = doc["kind"]
        if self.kind not in KINDS:
            raise SchemaError("%s: kind must be one of %s" % (path, KINDS))
        self.api_key = doc.get("api_key")
        if (self.kind in ("request", "response")) != (self.api_key is not None):
            raise SchemaError("%s: requests and responses (only) have an api_key" % path)
        self.versions = Versions.parse(doc["versions"])
        if self.versions.empty() or self.versions.hi is None:
            raise SchemaError("%s: versions must be a closed range" % path)
        self.flexible = Versions.parse(doc["flexible"])
        if not self.flexible.empty() and self.flexible.hi is not None:
            raise SchemaError("%s: flexible versions must be open-ended (\"N+\")" % path)
        self.unstable_latest = bool(doc.get("unstable_latest", False))
        self.snake = snake_case(self.name)
        self.api_name = self.name[:-len(self.kind)] if self.kind in ("request", "response") else None
        if self.api_name is not None and not self.name.endswith(self.kind.capitalize()):
            raise SchemaError("%s: a %s's name ends in %s" % (path, self.kind, self.kind.capitalize()))
        self.fields = [Field(r, self.name) for r in doc["fields"]]
        self.common = {}
        for c in doc.get("structs", []):
            fields = [Field(r, self.name + "." + c["name"]) for r in c["fields"]]
            self.common[c["name"]] = Struct(c["name"], fields, Versions.parse(c.get("versions", "0+")),
                                            self.name + "." + c["name"])
        self.root = Struct(self.name, self.fields, self.versions, self.name)
        for f in self.fields:
            if f.snake in RESERVED_TOP_LEVEL:
                raise SchemaError("%s: name reserved for generated members" % f.where)
        self.structs = self._collect_structs()
        self._check_tags()

    def first_flexible(self):
        return -1 if self.flexible.empty() else self.flexible.lo

    def _collect_structs(self):
        """Every nested struct, ordered so that each comes after the structs it uses."""
        inline = {}

        def find_inline(fields):
            for f in fields:
                if f.inline_fields is not None:
                    if f.type.base in inline or f.type.base in self.common:
                        raise SchemaError("%s: struct %s defined twice" % (f.where, f.type.base))
                    inline[f.type.base] = Struct(f.type.base, f.inline_fields, f.versions, f.where)
                    find_inline(f.inline_fields)

        find_inline(self.fields)
        for c in self.common.values():
            find_inline(c.fields)
        all_structs = dict(self.common)
        all_structs.update(inline)
        ordered, state = [], {}

        def visit(s):
            if state.get(s.name) == "done":
                return
            if state.get(s.name) == "active":
                raise SchemaError("%s: recursive struct %s" % (self.path, s.name))
            state[s.name] = "active"
            for f in s.fields:
                if f.type.is_struct:
                    if f.type.base not in all_structs:
                        raise SchemaError("%s: unknown struct %s" % (f.where, f.type.base))
                    visit(all_structs[f.type.base])
            state[s.name] = "done"
            ordered.append(s)

        for f in self.fields:
            if f.type.is_struct:
                if f.type.base not in all_structs:
                    raise SchemaError("%s: unknown struct %s" % (f.where, f.type.base))
                visit(all_structs[f.type.base])
        for c in self.common.values():
            visit(c)
        if len({s.snake for s in ordered}) != len(ordered):
            raise SchemaError("%s: two structs with the same snake_case name" % self.path)
        return ordered

    def struct_of_name(self, name):
        for s in self.structs:
            if s.name == name:
                return s
        raise SchemaError("%s: unknown struct %s" % (self.path, name))

    def _check_tags(self):
        for s in [self.root] + self.structs:
            for f in s.fields:
                if f.tag is not None and not self.flexible.covers(f.tagged):
                    raise SchemaError("%s: tagged versions must be flexible versions" % f.where)


def load_message(path):
    with open(path, encoding="utf-8") as fh:
        try:
            doc = json.load(fh)
        except json.JSONDecodeError as e:
            raise SchemaError("%s: %s" % (path, e))
    return Message(doc, path)


def load_all(schema_dir):
    """All messages under schema_dir (and schema_dir/test), sorted by file name."""
    paths = []
    for sub in ("", "test"):
        d = os.path.join(schema_dir, sub)
        if os.path.isdir(d):
            paths += [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.endswith(".json")]
    messages = [load_message(p) for p in paths]
    names = [m.name for m in messages]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SchemaError("duplicate message names: %s" % sorted(dup))
    for m in messages:
        if (m.kind == "test") != (os.path.basename(os.path.dirname(m.path)) == "test"):
            raise SchemaError("%s: test messages (only) live in schemas/test/" % m.path)
    return messages
