#include "protocol/records_payload.h"

#include "base/assert.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <unistd.h>

namespace samsa::protocol {

records_payload::records_payload(bytes data) : _null(false) { append(std::move(data)); }

records_payload records_payload::empty()
{
    records_payload p;
    p._null = false;
    return p;
}

records_payload records_payload::view(bytes_view data)
{
    records_payload p;
    p.append_view(data);
    return p;
}

void records_payload::append(bytes data)
{
    _null = false;
    _size += data.size();
    _chunks.emplace_back(std::move(data));
}

void records_payload::append_view(bytes_view data)
{
    _null = false;
    _size += data.size();
    _chunks.emplace_back(data);
}

void records_payload::append(file_region region)
{
    SAMSA_ASSERT(region.len >= 0, "negative file region length {}", region.len);
    _null = false;
    _size += static_cast<size_t>(region.len);
    _chunks.emplace_back(std::move(region));
}

bytes records_payload::to_bytes() const
{
    bytes out;
    out.reserve(_size);
    for (const auto& c : _chunks) {
        if (const auto* b = std::get_if<bytes>(&c)) {
            out.insert(out.end(), b->begin(), b->end());
        } else if (const auto* v = std::get_if<bytes_view>(&c)) {
            out.insert(out.end(), v->begin(), v->end());
        } else {
            read_file_region(std::get<file_region>(c), out);
        }
    }
    return out;
}

bool records_payload::has_file_regions() const
{
    return std::any_of(_chunks.begin(), _chunks.end(), [](const chunk& c) {
        return std::holds_alternative<file_region>(c);
    });
}

namespace {

bytes_view chunk_view(const records_payload::chunk& c)
{
    if (const auto* b = std::get_if<bytes>(&c)) return *b;
    return std::get<bytes_view>(c);
}

/// Compares two in-memory chunk sequences without concatenating them.
bool memory_chunks_equal(const std::vector<records_payload::chunk>& a,
                         const std::vector<records_payload::chunk>& b)
{
    size_t ia = 0, ib = 0, oa = 0, ob = 0;
    while (true) {
        while (ia < a.size() && oa == chunk_view(a[ia]).size()) ++ia, oa = 0;
        while (ib < b.size() && ob == chunk_view(b[ib]).size()) ++ib, ob = 0;
        if (ia == a.size() || ib == b.size()) return ia == a.size() && ib == b.size();
        auto va = chunk_view(a[ia]).subspan(oa);
        auto vb = chunk_view(b[ib]).subspan(ob);
        size_t n = std::min(va.size(), vb.size());
        if (!std::equal(va.begin(), va.begin() + static_cast<std::ptrdiff_t>(n), vb.begin())) return false;
        oa += n;
        ob += n;
    }
}

} // namespace

bool operator==(const records_payload& a, const records_payload& b)
{
    if (a._null != b._null) return false;
    if (a._size != b._size) return false;
    if (a.has_file_regions() || b.has_file_regions()) return a.to_bytes() == b.to_bytes();
    return memory_chunks_equal(a._chunks, b._chunks);
}

void read_file_region(const file_region& region, bytes& out)
{
    size_t start = out.size();
    out.resize(start + static_cast<size_t>(region.len));
    size_t done = 0;
    while (done < static_cast<size_t>(region.len)) {
        ssize_t n = ::pread(region.fd, out.data() + start + done, static_cast<size_t>(region.len) - done,
                            static_cast<off_t>(region.pos + static_cast<int64_t>(done)));
        if (n < 0) {
            if (errno == EINTR) continue;
            out.resize(start);
            throw std::system_error(errno, std::generic_category(), "pread of a file region");
        }
        if (n == 0) {
            out.resize(start);
            throw std::system_error(EIO, std::generic_category(), "file region ends past end of file");
        }
        done += static_cast<size_t>(n);
    }
}

} // namespace samsa::protocol
