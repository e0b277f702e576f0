#include "storage/offset_index.h"

#include "bytes/endian.h"
#include "storage/errc.h"

#include <algorithm>

namespace samsa::storage {

offset_index::offset_index(file_ops& fs, std::string path, offset base, size_t max_bytes)
  : _file(fs, std::move(path)), _base(base), _max_bytes(max_bytes)
{}

result<void> offset_index::open() { return ok(); }

result<void> offset_index::ensure_loaded()
{
    if (_loaded) return ok();
    SAMSA_TRY_ASSIGN(auto raw, _file.read_entries(entry_size));
    _entries.clear();
    _entries.reserve(raw.size() / entry_size);
    for (size_t i = 0; i < raw.size(); i += entry_size) {
        auto rel = be::load<uint32_t>(raw.data() + i);
        auto pos = be::load<uint32_t>(raw.data() + i + 4);
        _entries.push_back({_base + static_cast<int64_t>(rel), pos});
    }
    _loaded = true;
    return ok();
}

result<void> offset_index::load_and_check(uint64_t log_size)
{
    _loaded = false;
    SAMSA_TRY_ASSIGN(uint64_t sz, _file.size());
    if (sz % entry_size != 0) return make_error_code(errc::corrupt);
    SAMSA_TRY(ensure_loaded());
    for (size_t i = 0; i < _entries.size(); ++i) {
        if (_entries[i].position >= log_size) return make_error_code(errc::corrupt);
        if (i > 0 && (_entries[i].off <= _entries[i - 1].off || _entries[i].position <= _entries[i - 1].position)) {
            return make_error_code(errc::corrupt);
        }
    }
    if (_entries.size() > max_entries()) return make_error_code(errc::corrupt);
    return ok();
}

result<offset_index::entry> offset_index::lookup(offset target)
{
    SAMSA_TRY(ensure_loaded());
    auto it = std::upper_bound(_entries.begin(), _entries.end(), target,
                               [](offset t, const entry& e) { return t < e.off; });
    if (it == _entries.begin()) return entry{_base, 0};
    return *std::prev(it);
}

result<void> offset_index::append(offset off, uint32_t position)
{
    SAMSA_TRY(ensure_loaded());
    if (full()) return ok();
    if (!_entries.empty() && (off <= _entries.back().off || position <= _entries.back().position)) return ok();
    uint8_t buf[entry_size];
    be::store<uint32_t>(buf, static_cast<uint32_t>(off - _base));
    be::store<uint32_t>(buf + 4, position);
    SAMSA_TRY(_file.write_at(_entries.size() * entry_size, bytes_view(buf, entry_size)));
    _entries.push_back({off, position});
    return ok();
}

result<void> offset_index::truncate_to(offset target)
{
    SAMSA_TRY(ensure_loaded());
    auto it = std::lower_bound(_entries.begin(), _entries.end(), target,
                               [](const entry& e, offset t) { return e.off < t; });
    _entries.erase(it, _entries.end());
    return _file.truncate(_entries.size() * entry_size);
}

result<void> offset_index::reset(std::vector<entry> entries)
{
    if (entries.size() > max_entries()) entries.resize(max_entries());
    bytes raw(entries.size() * entry_size);
    for (size_t i = 0; i < entries.size(); ++i) {
        be::store<uint32_t>(raw.data() + i * entry_size, static_cast<uint32_t>(entries[i].off - _base));
        be::store<uint32_t>(raw.data() + i * entry_size + 4, entries[i].position);
    }
    SAMSA_TRY(_file.rewrite(raw));
    _entries = std::move(entries);
    _loaded = true;
    return ok();
}

result<void> offset_index::clear()
{
    _entries.clear();
    _loaded = true;
    return _file.clear();
}

result<void> offset_index::sync() { return _file.sync(); }
result<void> offset_index::close() { return ok(); }

std::optional<offset_index::entry> offset_index::last_entry() const
{
    if (!_loaded || _entries.empty()) return std::nullopt;
    return _entries.back();
}

} // namespace samsa::storage
