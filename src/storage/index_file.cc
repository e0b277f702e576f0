#include "storage/index_file.h"

namespace samsa::storage {

result<file_ptr> index_file::get()
{
    if (!_file) {
        SAMSA_TRY_ASSIGN(_file, _fs.open(_path, open_mode::create));
    }
    return _file;
}

result<bytes> index_file::read_entries(size_t entry_size)
{
    if (!_file && !_fs.exists(_path)) return bytes{};
    SAMSA_TRY_ASSIGN(auto f, get());
    SAMSA_TRY_ASSIGN(uint64_t sz, f->size());
    bytes raw(sz - sz % entry_size);
    SAMSA_TRY_ASSIGN(size_t n, f->pread(0, raw));
    raw.resize(n - n % entry_size);
    return raw;
}

result<uint64_t> index_file::size()
{
    if (!_file && !_fs.exists(_path)) return uint64_t(0);
    SAMSA_TRY_ASSIGN(auto f, get());
    return f->size();
}

result<void> index_file::write_at(uint64_t pos, bytes_view data)
{
    SAMSA_TRY_ASSIGN(auto f, get());
    return f->pwrite(pos, data);
}

result<void> index_file::truncate(uint64_t size)
{
    SAMSA_TRY_ASSIGN(auto f, get());
    return f->truncate(size);
}

result<void> index_file::rewrite(bytes_view data)
{
    SAMSA_TRY_ASSIGN(auto f, get());
    SAMSA_TRY(f->truncate(0));
    return f->pwrite(0, data);
}

result<void> index_file::clear()
{
    if (!_file && !_fs.exists(_path)) return ok();
    return truncate(0);
}

result<void> index_file::sync()
{
    SAMSA_TRY_ASSIGN(auto f, get());
    return f->sync();
}

} // namespace samsa::storage
