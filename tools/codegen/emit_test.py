"""Emits the test support code: fill_random() for every message and a list of all types."""

from emit_cpp import MessageEmitter, paren

RANDOM_HELPERS = r"""
namespace {

template<typename T>
T random_int(std::mt19937_64& rng)
{
    return static_cast<T>(rng());
}

bool random_bool(std::mt19937_64& rng) { return (rng() & 1) != 0; }
/// True one time in four: how often a nullable value is null.
bool random_null(std::mt19937_64& rng) { return rng() % 4 == 0; }
/// Array sizes: 0 to 3 elements, so nesting stays small.
size_t random_count(std::mt19937_64& rng) { return rng() % 4; }

double random_float64(std::mt19937_64& rng)
{
    return std::uniform_real_distribution<double>(-1e9, 1e9)(rng);
}

uuid random_uuid(std::mt19937_64& rng)
{
    uuid u;
    for (auto& b : u.bytes) b = static_cast<uint8_t>(rng());
    return u;
}

std::string random_string(std::mt19937_64& rng)
{
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
    std::string s(rng() % 12, ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
}

bytes random_bytes(std::mt19937_64& rng)
{
    bytes b(rng() % 24);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

/// Null (when allowed) or one or two owned chunks of random bytes.
records_payload random_records(std::mt19937_64& rng, bool nullable)
{
    if (nullable && random_null(rng)) return records_payload{};
    records_payload p = records_payload::empty();
    size_t chunks = rng() % 3;
    for (size_t i = 0; i < chunks; ++i) p.append(random_bytes(rng));
    return p;
}

} // namespace
"""

RANDOM_FN = {
    "bool": "random_bool(rng)", "int8": "random_int<int8_t>(rng)",
    "int16": "random_int<int16_t>(rng)", "int32": "random_int<int32_t>(rng)",
    "int64": "random_int<int64_t>(rng)", "uint16": "random_int<uint16_t>(rng)",
    "uint32": "random_int<uint32_t>(rng)", "float64": "random_float64(rng)",
    "uuid": "random_uuid(rng)", "string": "random_string(rng)", "bytes": "random_bytes(rng)",
}


class TestEmitter:
    def __init__(self, msg):
        self.msg = msg
        self.cpp = MessageEmitter(msg)

    def qualified(self, s, top_level):
        return s.snake if top_level else "%s::%s" % (self.cpp.ns, s.snake)

    def declarations(self):
        out = []
        for s in self.msg.structs:
            out.append("void fill_random(%s& m, int16_t version, std::mt19937_64& rng);"
                       % self.qualified(s, False))
        out.append("void fill_random(%s& m, int16_t version, std::mt19937_64& rng);" % self.msg.snake)
        return out

    def fill_value(self, f, e, null_cond):
        kind = f.type.kind
        if kind == "records":
            return ["%s = random_records(rng, %s);" % (e, null_cond)]
        if kind == "array":
            t = f.type
            if t.is_struct:
                elem = "fill_random(v.emplace_back(), version, rng);"
            else:
                elem = "v.push_back(%s);" % RANDOM_FN[t.base]
            body = ["auto& v = %s;" % (e + ".emplace()" if f.is_optional else e),
                    "v.clear();",
                    "for (size_t i = 0, n = random_count(rng); i < n; ++i) %s" % elem]
        elif kind == "struct":
            body = ["fill_random(%s, version, rng);" % (e + ".emplace()" if f.is_optional else e)]
        else:
            body = ["%s = %s;" % (e, RANDOM_FN[kind])]
        if not f.is_optional or null_cond == "false":
            return body if len(body) == 1 else ["{"] + ["    " + l for l in body] + ["}"]
        test = "random_null(rng)" if null_cond == "true" else "%s && random_null(rng)" % paren(null_cond)
        return ["if (%s) {" % test, "    %s.reset();" % e, "} else {"] + \
               ["    " + l for l in body] + ["}"]

    def define(self, s, top_level):
        ctx = self.cpp.context(s)
        out = ["void fill_random(%s& m, [[maybe_unused]] int16_t version, [[maybe_unused]] std::mt19937_64& rng)"
               % self.qualified(s, top_level), "{"]
        if top_level:
            out.append("    m = %s{};" % s.snake)
        for f in s.fields:
            present = f.versions.intersect(ctx)
            cond = present.condition(ctx)
            if cond == "false":
                continue
            null_cond = f.nullable.condition(present)
            lines = self.fill_value(f, "m." + f.snake, null_cond)
            out += ["    " + l for l in self.cpp.guarded(cond, lines)]
        out.append("}")
        return out

    def definitions(self):
        out = []
        for s in self.msg.structs:
            out += self.define(s, False)
            out.append("")
        out += self.define(self.msg.root, True)
        return out


def support_header(messages, header_of):
    includes = sorted({header_of(m) for m in messages})
    out = ["#pragma once", ""]
    out += ['#include "%s"' % h for h in includes]
    out += ["", "#include <cstdint>", "#include <random>", "#include <type_traits>", "",
            "namespace samsa::protocol {", "",
            "/// Sets every field present in `version` to a random valid value (null only where",
            "/// that version allows it); fields absent in `version` keep their defaults.", ""]
    for m in messages:
        out += TestEmitter(m).declarations()
    out += ["", "/// Calls f(std::type_identity<T>{}) for every generated message type T.",
            "template<typename F>", "void for_each_message_type(F&& f)", "{"]
    for m in messages:
        out.append("    f(std::type_identity<%s>{});" % m.snake)
    out += ["}", "", "} // namespace samsa::protocol", ""]
    return "\n".join(out)


def support_source(messages):
    out = ['#include "protocol/messages/test_support.h"', "", "#include <string_view>", "",
           "namespace samsa::protocol {", RANDOM_HELPERS]
    for m in messages:
        out += TestEmitter(m).definitions()
        out.append("")
    out += ["} // namespace samsa::protocol", ""]
    return "\n".join(out)
