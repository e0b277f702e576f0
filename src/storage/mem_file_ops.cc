#include "storage/mem_file_ops.h"

#include "storage/errc.h"

#include <algorithm>
#include <cstring>

namespace samsa::storage {

struct mem_file_ops::inode {
    std::mutex mu;
    bytes data;
    bytes synced;
};

namespace {

class mem_file final : public file {
public:
    mem_file(std::shared_ptr<mem_file_ops::inode> n, bool writable) : _n(std::move(n)), _writable(writable) {}

    result<size_t> pread(uint64_t pos, mutable_bytes_view dst) override
    {
        std::lock_guard g(_n->mu);
        if (pos >= _n->data.size() || dst.empty()) return size_t(0);
        size_t len = std::min<size_t>(dst.size(), _n->data.size() - pos);
        std::memcpy(dst.data(), _n->data.data() + pos, len);
        return len;
    }

    result<void> pwrite(uint64_t pos, bytes_view src) override
    {
        if (!_writable) return make_error_code(errc::invalid_argument);
        if (src.empty()) return ok();
        std::lock_guard g(_n->mu);
        if (_n->data.size() < pos + src.size()) _n->data.resize(pos + src.size());
        std::memcpy(_n->data.data() + pos, src.data(), src.size());
        return ok();
    }

    result<void> sync() override
    {
        std::lock_guard g(_n->mu);
        _n->synced = _n->data;
        return ok();
    }

    result<void> truncate(uint64_t size) override
    {
        if (!_writable) return make_error_code(errc::invalid_argument);
        std::lock_guard g(_n->mu);
        _n->data.resize(size);
        return ok();
    }

    result<uint64_t> size() override
    {
        std::lock_guard g(_n->mu);
        return uint64_t(_n->data.size());
    }

private:
    std::shared_ptr<mem_file_ops::inode> _n;
    bool _writable;
};

std::string normalize(const std::string& p)
{
    std::string out = p;
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

} // namespace

mem_file_ops::mem_file_ops() { _dirs.insert("/"); }
mem_file_ops::~mem_file_ops() = default;

result<file_ptr> mem_file_ops::open(const std::string& raw_path, open_mode mode)
{
    std::lock_guard g(_mu);
    auto path = normalize(raw_path);
    auto it = _files.find(path);
    if (it == _files.end()) {
        if (mode == open_mode::read_only || mode == open_mode::read_write) return make_error_code(errc::not_found);
        if (!_dirs.count(parent_dir(path))) return make_error_code(errc::not_found);
        it = _files.emplace(path, std::make_shared<inode>()).first;
    } else if (mode == open_mode::create_exclusive) {
        return make_error_code(errc::already_exists);
    }
    return file_ptr(std::make_shared<mem_file>(it->second, mode != open_mode::read_only));
}

result<void> mem_file_ops::remove(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    if (_files.erase(normalize(raw_path)) == 0) return make_error_code(errc::not_found);
    return ok();
}

result<void> mem_file_ops::rename(const std::string& from_raw, const std::string& to_raw)
{
    std::lock_guard g(_mu);
    auto from = normalize(from_raw), to = normalize(to_raw);
    if (_dirs.count(from)) return rename_dir(from, to);
    auto it = _files.find(from);
    if (it == _files.end()) return make_error_code(errc::not_found);
    if (!_dirs.count(parent_dir(to))) return make_error_code(errc::not_found);
    auto node = it->second;
    _files.erase(it);
    _files[to] = node;
    return ok();
}

result<void> mem_file_ops::rename_dir(const std::string& from, const std::string& to)
{
    // Directories are durable at once in this model, so the files under one move in both the
    // current and the durable namespace.
    if (_dirs.count(to) || _files.count(to) || !_dirs.count(parent_dir(to))) return make_error_code(errc::already_exists);
    auto under = [&](const std::string& p) { return p == from || p.rfind(from + "/", 0) == 0; };
    auto moved = [&](const std::string& p) { return to + p.substr(from.size()); };
    std::set<std::string> dirs;
    for (auto& d : _dirs) dirs.insert(under(d) ? moved(d) : d);
    _dirs = std::move(dirs);
    for (auto* m : {&_files, &_durable_files}) {
        std::map<std::string, std::shared_ptr<inode>> out;
        for (auto& [p, n] : *m) out[under(p) ? moved(p) : p] = n;
        *m = std::move(out);
    }
    return ok();
}

result<std::vector<std::string>> mem_file_ops::list_dir(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    auto path = normalize(raw_path);
    if (!_dirs.count(path)) return make_error_code(errc::not_found);
    std::vector<std::string> out;
    for (auto& [p, n] : _files) {
        if (parent_dir(p) == path) out.push_back(base_name(p));
    }
    for (auto& d : _dirs) {
        if (d != path && parent_dir(d) == path) out.push_back(base_name(d));
    }
    return out;
}

result<void> mem_file_ops::create_dirs(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    auto path = normalize(raw_path);
    while (!path.empty() && !_dirs.count(path)) {
        if (_files.count(path)) return make_error_code(errc::already_exists);
        _dirs.insert(path);
        path = parent_dir(path);
    }
    return ok();
}

result<void> mem_file_ops::remove_dir(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    auto path = normalize(raw_path);
    if (!_dirs.count(path)) return make_error_code(errc::not_found);
    for (auto& [p, n] : _files) {
        if (parent_dir(p) == path) return make_error_code(errc::invalid_argument);
    }
    for (auto& d : _dirs) {
        if (d != path && parent_dir(d) == path) return make_error_code(errc::invalid_argument);
    }
    _dirs.erase(path);
    std::erase_if(_durable_files, [&](auto& kv) { return parent_dir(kv.first) == path; });
    return ok();
}

result<void> mem_file_ops::sync_dir(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    auto path = normalize(raw_path);
    if (!_dirs.count(path)) return make_error_code(errc::not_found);
    std::erase_if(_durable_files, [&](auto& kv) { return parent_dir(kv.first) == path; });
    for (auto& [p, n] : _files) {
        if (parent_dir(p) == path) _durable_files[p] = n;
    }
    return ok();
}

bool mem_file_ops::exists(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    auto path = normalize(raw_path);
    return _files.count(path) || _dirs.count(path);
}

bool mem_file_ops::is_dir(const std::string& raw_path)
{
    std::lock_guard g(_mu);
    return _dirs.count(normalize(raw_path)) > 0;
}

result<uint64_t> mem_file_ops::available_bytes(const std::string&)
{
    std::lock_guard g(_mu);
    return _available;
}

void mem_file_ops::set_available_bytes(uint64_t n)
{
    std::lock_guard g(_mu);
    _available = n;
}

void mem_file_ops::simulate_crash()
{
    std::lock_guard g(_mu);
    _files = _durable_files;
    for (auto& [p, n] : _files) {
        std::lock_guard gn(n->mu);
        n->data = n->synced;
    }
}

bytes* mem_file_ops::raw(const std::string& path)
{
    std::lock_guard g(_mu);
    auto it = _files.find(normalize(path));
    return it == _files.end() ? nullptr : &it->second->data;
}

} // namespace samsa::storage
