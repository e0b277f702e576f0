#include "storage/file_ops.h"

#include "storage/errc.h"

namespace samsa::storage {

result<void> file::pwritev(uint64_t pos, const std::vector<bytes_view>& bufs)
{
    for (auto b : bufs) {
        SAMSA_TRY(pwrite(pos, b));
        pos += b.size();
    }
    return ok();
}

result<bytes> file_ops::read_file(const std::string& path)
{
    SAMSA_TRY_ASSIGN(auto f, open(path, open_mode::read_only));
    SAMSA_TRY_ASSIGN(uint64_t sz, f->size());
    bytes data(sz);
    SAMSA_TRY_ASSIGN(size_t n, f->pread(0, data));
    data.resize(n);
    return data;
}

result<void> file_ops::write_file_atomic(const std::string& path, bytes_view data, bool durable)
{
    std::string tmp = path + std::string(atomic_write_suffix);
    {
        SAMSA_TRY_ASSIGN(auto f, open(tmp, open_mode::create));
        SAMSA_TRY(f->truncate(0));
        SAMSA_TRY(f->pwrite(0, data));
        if (durable) SAMSA_TRY(f->sync());
    }
    SAMSA_TRY(rename(tmp, path));
    if (!durable) return ok();
    return sync_dir(parent_dir(path));
}

result<void> file_ops::remove_all(const std::string& path)
{
    if (!exists(path)) return ok();
    if (!is_dir(path)) return remove(path);
    SAMSA_TRY_ASSIGN(auto names, list_dir(path));
    for (auto& n : names) SAMSA_TRY(remove_all(join_path(path, n)));
    return remove_dir(path);
}

std::string join_path(const std::string& dir, const std::string& name)
{
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

std::string parent_dir(const std::string& path)
{
    auto p = path.find_last_of('/');
    if (p == std::string::npos) return ".";
    if (p == 0) return "/";
    return path.substr(0, p);
}

std::string base_name(const std::string& path)
{
    auto p = path.find_last_of('/');
    return p == std::string::npos ? path : path.substr(p + 1);
}

} // namespace samsa::storage
