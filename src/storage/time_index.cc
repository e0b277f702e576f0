#include "storage/time_index.h"

#include "bytes/endian.h"
#include "storage/errc.h"

#include <algorithm>

namespace samsa::storage {

time_index::time_index(file_ops& fs, std::string path, offset base, size_t max_bytes)
  : _file(fs, std::move(path)), _base(base), _max_bytes(max_bytes)
{}

result<void> time_index::open() { return ok(); }

result<void> time_index::ensure_loaded()
{
    if (_loaded) return ok();
    SAMSA_TRY_ASSIGN(auto raw, _file.read_entries(entry_size));
    _entries.clear();
    for (size_t i = 0; i < raw.size(); i += entry_size) {
        _entries.push_back({timestamp_ms(be::load<int64_t>(raw.data() + i)),
                            _base + static_cast<int64_t>(be::load<uint32_t>(raw.data() + i + 8))});
    }
    _loaded = true;
    return ok();
}

result<void> time_index::load_and_check(offset next_offset)
{
    _loaded = false;
    SAMSA_TRY_ASSIGN(uint64_t sz, _file.size());
    if (sz % entry_size != 0) return make_error_code(errc::corrupt);
    SAMSA_TRY(ensure_loaded());
    for (size_t i = 0; i < _entries.size(); ++i) {
        if (_entries[i].off >= next_offset && !(_entries[i].off == _base && next_offset == _base)) {
            return make_error_code(errc::corrupt);
        }
        if (i > 0 && (_entries[i].ts <= _entries[i - 1].ts || _entries[i].off < _entries[i - 1].off)) {
            return make_error_code(errc::corrupt);
        }
    }
    if (_entries.size() > max_entries()) return make_error_code(errc::corrupt);
    return ok();
}

result<time_index::entry> time_index::lookup(timestamp_ms target)
{
    SAMSA_TRY(ensure_loaded());
    auto it = std::lower_bound(_entries.begin(), _entries.end(), target,
                               [](const entry& e, timestamp_ms t) { return e.ts < t; });
    if (it == _entries.begin()) return entry{no_timestamp, _base};
    return *std::prev(it);
}

result<void> time_index::maybe_append(timestamp_ms ts, offset off)
{
    SAMSA_TRY(ensure_loaded());
    if (full()) return ok();
    if (!_entries.empty() && (ts <= _entries.back().ts || off < _entries.back().off)) return ok();
    uint8_t buf[entry_size];
    be::store<int64_t>(buf, ts());
    be::store<uint32_t>(buf + 8, static_cast<uint32_t>(off - _base));
    SAMSA_TRY(_file.write_at(_entries.size() * entry_size, bytes_view(buf, entry_size)));
    _entries.push_back({ts, off});
    return ok();
}

result<void> time_index::truncate_to(offset target)
{
    SAMSA_TRY(ensure_loaded());
    auto it = std::lower_bound(_entries.begin(), _entries.end(), target,
                               [](const entry& e, offset t) { return e.off < t; });
    _entries.erase(it, _entries.end());
    return _file.truncate(_entries.size() * entry_size);
}

result<void> time_index::reset(std::vector<entry> entries)
{
    if (entries.size() > max_entries()) entries.resize(max_entries());
    bytes raw(entries.size() * entry_size);
    for (size_t i = 0; i < entries.size(); ++i) {
        be::store<int64_t>(raw.data() + i * entry_size, entries[i].ts());
        be::store<uint32_t>(raw.data() + i * entry_size + 8, static_cast<uint32_t>(entries[i].off - _base));
    }
    SAMSA_TRY(_file.rewrite(raw));
    _entries = std::move(entries);
    _loaded = true;
    return ok();
}

result<void> time_index::clear()
{
    _entries.clear();
    _loaded = true;
    return _file.clear();
}

result<void> time_index::sync() { return _file.sync(); }

std::optional<time_index::entry> time_index::last_entry()
{
    if (!ensure_loaded() || _entries.empty()) return std::nullopt;
    return _entries.back();
}

} // namespace samsa::storage
