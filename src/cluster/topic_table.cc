#include "cluster/topic_table.h"

#include <algorithm>
#include <random>

namespace samsa::cluster {

std::optional<std::string> validate_topic_name(std::string_view name)
{
    if (name.empty()) return std::string("Topic name is illegal, it can't be empty");
    if (name == "." || name == "..") return std::string("Topic name cannot be \".\" or \"..\"");
    if (name.size() > 249) {
        return "Topic name is illegal, it can't be longer than 249 characters, topic name: " + std::string(name);
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) {
            return "Topic name \"" + std::string(name) +
                   "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
        }
    }
    return std::nullopt;
}

bool topic_names_collide(std::string_view a, std::string_view b)
{
    if (a.size() != b.size() || a == b) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i] == '.' ? '_' : a[i];
        char y = b[i] == '.' ? '_' : b[i];
        if (x != y) return false;
    }
    return true;
}

protocol::uuid random_uuid()
{
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    protocol::uuid u;
    do {
        uint64_t hi = rng(), lo = rng();
        // Version 4, variant 1, as Java's UUID.randomUUID.
        hi = (hi & ~0xf000ull) | 0x4000ull;
        lo = (lo & ~(3ull << 62)) | (2ull << 62);
        for (int i = 0; i < 8; ++i) {
            u.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
            u.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
        }
    } while (u.is_zero());
    return u;
}

namespace {
constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::optional<protocol::uuid> uuid_from_base64(std::string_view s)
{
    if (s.size() != 22) return std::nullopt;
    protocol::uuid u;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (char c : s) {
        const char* p = std::find(std::begin(b64), std::end(b64) - 1, c);
        if (p == std::end(b64) - 1) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(p - b64);
        bits += 6;
        if (bits >= 8) {
            if (n < 16) u.bytes[n++] = static_cast<uint8_t>(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return u;
}

std::string random_cluster_id() { return random_uuid().to_string(); }

} // namespace samsa::cluster
