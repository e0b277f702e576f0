#include "bytes/crc32c.h"

#include <array>
#include <cstring>
#include <zlib.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace samsa {
namespace {

constexpr uint32_t poly = 0x82f63b78; // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> make_table()
{
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr auto table = make_table();

uint32_t crc32c_sw(const uint8_t* p, size_t n, uint32_t crc)
{
    crc = ~crc;
    while (n--) crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const uint8_t* p, size_t n, uint32_t crc)
{
    uint64_t c = ~crc & 0xffffffffu;
    while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
        c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
        --n;
    }
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    while (n--) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    return ~static_cast<uint32_t>(c);
}

bool detect_hw() { return __builtin_cpu_supports("sse4.2"); }
#else
bool detect_hw() { return false; }
#endif

const bool g_hw = detect_hw();

} // namespace

uint32_t crc32c(const void* data, size_t len, uint32_t crc)
{
    auto p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
    if (g_hw) return crc32c_hw(p, len, crc);
#endif
    return crc32c_sw(p, len, crc);
}

bool crc32c_hardware() { return g_hw; }

uint32_t crc32_ieee(const void* data, size_t len, uint32_t crc)
{
    return static_cast<uint32_t>(::crc32(crc, static_cast<const Bytef*>(data), static_cast<uInt>(len)));
}

} // namespace samsa
