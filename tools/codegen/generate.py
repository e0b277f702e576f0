#!/usr/bin/env python3
"""Generates Samsa's Kafka message codecs from the schema files (see README.md).

    generate.py --schemas DIR --out DIR     write the C++ files (only those that changed)
    generate.py --schemas DIR --list        print the output files: library files on the
                                            first line, test-only files on the second
                                            (';'-separated, relative to --out)
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emit_cpp import BANNER, MessageEmitter  # noqa: E402
from emit_test import support_header, support_source  # noqa: E402
from schema import SchemaError, load_all, snake_case  # noqa: E402

HEADER_INCLUDES = [
    '#include "protocol/api_key.h"',
    '#include "protocol/records_payload.h"',
    '#include "protocol/wire.h"',
    "",
    "#include <cstdint>",
    "#include <optional>",
    "#include <string>",
    "#include <string_view>",
    "#include <vector>",
]


class Unit:
    """One generated .h/.cc pair: an API (request + response + traits) or one data message."""

    def __init__(self, stem, messages, test_only):
        self.stem = stem
        self.messages = messages
        self.test_only = test_only

    @property
    def header(self):
        return "protocol/messages/%s.h" % self.stem

    def sources(self):
        return [os.path.basename(m.path) for m in self.messages]

    def header_text(self):
        out = [BANNER % ", ".join("schemas/" + s for s in self.sources()).rstrip(), "#pragma once", ""]
        out += HEADER_INCLUDES
        out += ["", "namespace samsa::protocol {", ""]
        for m in self.messages:
            out += MessageEmitter(m).declarations()
            out.append("")
        if len(self.messages) == 2 and self.messages[0].api_key is not None:
            out += self.traits()
            out.append("")
        out += ["} // namespace samsa::protocol", ""]
        return "\n".join(out)

    def traits(self):
        req, resp = self.messages
        api = snake_case(req.api_name)
        return [
            "/// %s (API key %d): the request and response types and their versions."
            % (req.api_name, req.api_key),
            "struct %s_api {" % api,
            "    static constexpr api_key key = api_key::%s;" % api,
            '    static constexpr std::string_view name = "%s";' % req.api_name,
            "    static constexpr int16_t min_version = %d;" % req.versions.lo,
            "    static constexpr int16_t max_version = %d;" % req.versions.hi,
            "    /// -1 when no version is flexible.",
            "    static constexpr int16_t first_flexible_version = %d;" % req.first_flexible(),
            "    /// The newest version is still under development in Kafka.",
            "    static constexpr bool latest_version_unstable = %s;"
            % ("true" if req.unstable_latest or resp.unstable_latest else "false"),
            "    using request_type = %s;" % req.snake,
            "    using response_type = %s;" % resp.snake,
            "};",
        ]

    def source_text(self):
        out = [BANNER % ", ".join("schemas/" + s for s in self.sources()).rstrip(),
               '#include "%s"' % self.header, "", '#include "base/assert.h"', "",
               "#include <string>", "", "namespace samsa::protocol {", ""]
        for m in self.messages:
            out += MessageEmitter(m).definitions()
            out.append("")
        out += ["} // namespace samsa::protocol", ""]
        return "\n".join(out)


def make_units(messages):
    apis, units = {}, []
    for m in messages:
        if m.api_key is not None:
            apis.setdefault(m.api_name, []).append(m)
        else:
            units.append(Unit(snake_case(m.name), [m], m.kind == "test"))
    for name, ms in sorted(apis.items()):
        ms.sort(key=lambda m: m.kind != "request")
        if [m.kind for m in ms] != ["request", "response"]:
            raise SchemaError("API %s needs exactly one request and one response" % name)
        req, resp = ms
        if (req.api_key, str(req.versions), str(req.flexible)) != (resp.api_key, str(resp.versions), str(resp.flexible)):
            raise SchemaError("API %s: request and response disagree on key or versions" % name)
        units.append(Unit(snake_case(name), ms, False))
    units.sort(key=lambda u: u.stem)
    return units


def api_table(messages):
    reqs = sorted((m for m in messages if m.kind == "request"), key=lambda m: m.api_key)
    h = [BANNER % "schemas/*Request.json", "#pragma once", "",
         '#include "protocol/api_key.h"', "", "#include <cstdint>", "#include <span>",
         "#include <string_view>", "", "namespace samsa::protocol {", "",
         "/// What the schemas say about one API.",
         "struct api_info {",
         "    api_key key;",
         "    std::string_view name;",
         "    int16_t min_version;",
         "    int16_t max_version;",
         "    /// -1 when no version is flexible.",
         "    int16_t first_flexible_version;",
         "    bool latest_version_unstable;",
         "};", "",
         "/// Every API with a schema, sorted by key.",
         "std::span<const api_info> schema_apis();",
         "/// The entry of `key`, nullptr when it has no schema.",
         "const api_info* find_schema_api(api_key key);", "",
         "} // namespace samsa::protocol", ""]
    c = [BANNER % "schemas/*Request.json", '#include "protocol/messages/api_table.h"', "",
         "#include <array>", "", "namespace samsa::protocol {", "", "namespace {", "",
         "constexpr std::array<api_info, %d> apis{{" % len(reqs)]
    for m in reqs:
        c.append('    {api_key::%s, "%s", %d, %d, %d, %s},' % (
            snake_case(m.api_name), m.api_name, m.versions.lo, m.versions.hi, m.first_flexible(),
            "true" if m.unstable_latest else "false"))
    c += ["}};", "", "} // namespace", "",
          "std::span<const api_info> schema_apis() { return apis; }", "",
          "const api_info* find_schema_api(api_key key)", "{",
          "    for (const auto& a : apis) {",
          "        if (a.key == key) return &a;",
          "    }",
          "    return nullptr;",
          "}", "", "} // namespace samsa::protocol", ""]
    return "\n".join(h), "\n".join(c)


def outputs(messages):
    """{relative path: text} for library files and for test-only files."""
    lib, test = {}, {}
    units = make_units(messages)
    for u in units:
        target = test if u.test_only else lib
        target["%s.h" % u.stem] = u.header_text()
        target["%s.cc" % u.stem] = u.source_text()
    lib["api_table.h"], lib["api_table.cc"] = api_table(messages)
    all_units = [m for u in units for m in u.messages]
    header_of = {id(m): u.header for u in units for m in u.messages}
    test["test_support.h"] = support_header(all_units, lambda m: header_of[id(m)])
    test["test_support.cc"] = support_source(all_units)
    return lib, test


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return True


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schemas", required=True, help="the schemas/ directory")
    ap.add_argument("--out", help="output directory (…/generated/protocol/messages)")
    ap.add_argument("--list", action="store_true", help="print the output file names and exit")
    args = ap.parse_args(argv)
    try:
        messages = load_all(args.schemas)
        lib, test = outputs(messages)
    except SchemaError as e:
        print("codegen: error: %s" % e, file=sys.stderr)
        return 1
    if args.list:
        print(";".join(sorted(lib)))
        print(";".join(sorted(test)))
        return 0
    if not args.out:
        ap.error("--out is required unless --list")
    changed = 0
    for name, text in list(lib.items()) + list(test.items()):
        changed += write_if_changed(os.path.join(args.out, name), text)
    # Touch nothing else: unchanged files keep their timestamps so nothing recompiles.
    print("codegen: %d messages, %d files, %d changed" % (len(messages), len(lib) + len(test), changed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
