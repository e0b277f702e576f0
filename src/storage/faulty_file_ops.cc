#include "storage/faulty_file_ops.h"

#include "storage/errc.h"

#include <map>
#include <sstream>

namespace samsa::storage {
namespace {

class faulty_file final : public file {
public:
    faulty_file(file_ptr inner, std::string path, faulty_file_ops& ops)
      : _inner(std::move(inner)), _path(std::move(path)), _ops(ops)
    {}

    result<size_t> pread(uint64_t pos, mutable_bytes_view dst) override { return _inner->pread(pos, dst); }

    result<void> pwrite(uint64_t pos, bytes_view src) override
    {
        bool partial = false;
        if (auto e = _ops.check(faulty_file_ops::op::write, _path, &partial)) {
            if (partial && src.size() > 1) (void)_inner->pwrite(pos, src.first(src.size() / 2));
            return e;
        }
        uint64_t fits = _ops.reserve_space(_path, src.size());
        if (fits < src.size()) {
            if (fits > 0) (void)_inner->pwrite(pos, src.first(fits));
            return make_error_code(errc::no_space);
        }
        return _inner->pwrite(pos, src);
    }

    result<void> sync() override
    {
        if (auto e = _ops.check(faulty_file_ops::op::sync, _path)) return e;
        return _inner->sync();
    }

    result<void> truncate(uint64_t size) override
    {
        if (auto e = _ops.check(faulty_file_ops::op::truncate, _path)) return e;
        return _inner->truncate(size);
    }

    result<uint64_t> size() override { return _inner->size(); }
    int native_handle() const override { return _inner->native_handle(); }

private:
    file_ptr _inner;
    std::string _path;
    faulty_file_ops& _ops;
};

} // namespace

void faulty_file_ops::inject(fault f)
{
    std::lock_guard g(_mu);
    _faults.push_back(std::move(f));
}

void faulty_file_ops::clear()
{
    std::lock_guard g(_mu);
    _faults.clear();
    _space_left.clear();
}

void faulty_file_ops::set_space_limit(uint64_t bytes, std::string path_prefix)
{
    std::lock_guard g(_mu);
    if (bytes == UINT64_MAX) _space_left.erase(path_prefix);
    else _space_left[path_prefix] = bytes;
}

int faulty_file_ops::calls(op o) const
{
    std::lock_guard g(_mu);
    return _calls[static_cast<int>(o)];
}

std::error_code faulty_file_ops::check(op o, const std::string& path, bool* partial)
{
    std::lock_guard g(_mu);
    ++_calls[static_cast<int>(o)];
    for (auto& f : _faults) {
        if (f.target != op::any && f.target != o) continue;
        if (!f.path_contains.empty() && path.find(f.path_contains) == std::string::npos) continue;
        if (f.skip > 0) {
            --f.skip;
            continue;
        }
        if (f.count == 0) continue;
        if (f.count > 0) --f.count;
        if (partial) *partial = f.partial;
        return f.error;
    }
    return {};
}

uint64_t faulty_file_ops::reserve_space(const std::string& path, uint64_t n)
{
    std::lock_guard g(_mu);
    for (auto& [prefix, left] : _space_left) {
        if (path.rfind(prefix, 0) != 0) continue;
        uint64_t fits = std::min(n, left);
        left -= fits;
        return fits;
    }
    return n;
}

result<file_ptr> faulty_file_ops::open(const std::string& path, open_mode mode)
{
    if (auto e = check(op::open, path)) return e;
    SAMSA_TRY_ASSIGN(auto f, _inner.open(path, mode));
    return file_ptr(std::make_shared<faulty_file>(std::move(f), path, *this));
}

result<void> faulty_file_ops::remove(const std::string& path)
{
    if (auto e = check(op::remove, path)) return e;
    return _inner.remove(path);
}

result<void> faulty_file_ops::rename(const std::string& from, const std::string& to)
{
    if (auto e = check(op::rename, from)) return e;
    return _inner.rename(from, to);
}

result<std::vector<std::string>> faulty_file_ops::list_dir(const std::string& path) { return _inner.list_dir(path); }
result<void> faulty_file_ops::create_dirs(const std::string& path) { return _inner.create_dirs(path); }
result<void> faulty_file_ops::remove_dir(const std::string& path) { return _inner.remove_dir(path); }

result<void> faulty_file_ops::sync_dir(const std::string& path)
{
    if (auto e = check(op::sync_dir, path)) return e;
    return _inner.sync_dir(path);
}

bool faulty_file_ops::exists(const std::string& path) { return _inner.exists(path); }
bool faulty_file_ops::is_dir(const std::string& path) { return _inner.is_dir(path); }

result<uint64_t> faulty_file_ops::available_bytes(const std::string& path)
{
    SAMSA_TRY_ASSIGN(uint64_t real, _inner.available_bytes(path));
    std::lock_guard g(_mu);
    for (auto& [prefix, left] : _space_left) {
        if (path.rfind(prefix, 0) == 0 || path + "/" == prefix) return std::min(real, left);
    }
    return real;
}

// ---- sync journal ----

namespace {

class journaled_file final : public file {
public:
    journaled_file(file_ptr inner, std::string path, sync_journal_file_ops& ops)
      : _inner(std::move(inner)), _path(std::move(path)), _ops(ops)
    {}
    result<size_t> pread(uint64_t pos, mutable_bytes_view dst) override { return _inner->pread(pos, dst); }
    result<void> pwrite(uint64_t pos, bytes_view src) override { return _inner->pwrite(pos, src); }
    result<void> pwritev(uint64_t pos, const std::vector<bytes_view>& b) override { return _inner->pwritev(pos, b); }
    result<void> sync() override
    {
        SAMSA_TRY(_inner->sync());
        SAMSA_TRY_ASSIGN(uint64_t sz, _inner->size());
        _ops.record("S " + std::to_string(sz) + " " + _path);
        return ok();
    }
    result<void> truncate(uint64_t size) override { return _inner->truncate(size); }
    result<uint64_t> size() override { return _inner->size(); }
    int native_handle() const override { return _inner->native_handle(); }

private:
    file_ptr _inner;
    std::string _path;
    sync_journal_file_ops& _ops;
};

} // namespace

sync_journal_file_ops::sync_journal_file_ops(file_ops& inner, std::string journal_path) : _inner(inner)
{
    auto j = _inner.open(journal_path, open_mode::create);
    if (!j) throw std::runtime_error("cannot open sync journal " + journal_path);
    _journal = *j;
    _journal_pos = _journal->size().value();
}

void sync_journal_file_ops::record(const std::string& line)
{
    std::lock_guard g(_mu);
    std::string l = line + "\n";
    if (_journal->pwrite(_journal_pos, as_bytes(l))) _journal_pos += l.size();
}

result<file_ptr> sync_journal_file_ops::open(const std::string& path, open_mode mode)
{
    SAMSA_TRY_ASSIGN(auto f, _inner.open(path, mode));
    return file_ptr(std::make_shared<journaled_file>(std::move(f), path, *this));
}

result<void> sync_journal_file_ops::remove(const std::string& path)
{
    SAMSA_TRY(_inner.remove(path));
    record("D 0 " + path);
    return ok();
}

result<void> sync_journal_file_ops::rename(const std::string& from, const std::string& to)
{
    SAMSA_TRY(_inner.rename(from, to));
    record("R " + from + "\t" + to);
    return ok();
}

result<size_t> sync_journal_file_ops::drop_unsynced_data(file_ops& fs, const std::string& journal_path,
                                                         const std::string& root)
{
    SAMSA_TRY_ASSIGN(auto content, fs.read_file(journal_path));
    std::map<std::string, uint64_t> synced;
    std::istringstream in(std::string(as_string_view(content)));
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() < 3) continue;
        if (line[0] == 'S' || line[0] == 'D') {
            auto sp = line.find(' ', 2);
            if (sp == std::string::npos) continue;
            uint64_t sz = std::stoull(line.substr(2, sp - 2));
            auto path = line.substr(sp + 1);
            if (line[0] == 'S') synced[path] = sz;
            else synced.erase(path);
        } else if (line[0] == 'R') {
            auto tab = line.find('\t');
            if (tab == std::string::npos) continue;
            auto from = line.substr(2, tab - 2), to = line.substr(tab + 1);
            auto it = synced.find(from);
            if (it != synced.end()) {
                synced[to] = it->second;
                synced.erase(from);
            } else {
                synced.erase(to);
            }
        }
    }
    size_t cut = 0;
    std::function<result<void>(const std::string&)> walk = [&](const std::string& dir) -> result<void> {
        SAMSA_TRY_ASSIGN(auto names, fs.list_dir(dir));
        for (auto& n : names) {
            auto p = join_path(dir, n);
            if (p == journal_path) continue;
            if (fs.is_dir(p)) {
                SAMSA_TRY(walk(p));
                continue;
            }
            SAMSA_TRY_ASSIGN(auto f, fs.open(p, open_mode::read_write));
            SAMSA_TRY_ASSIGN(uint64_t sz, f->size());
            auto it = synced.find(p);
            uint64_t keep = it == synced.end() ? 0 : it->second;
            if (sz > keep) {
                SAMSA_TRY(f->truncate(keep));
                ++cut;
            }
        }
        return ok();
    };
    SAMSA_TRY(walk(root));
    return cut;
}

} // namespace samsa::storage
