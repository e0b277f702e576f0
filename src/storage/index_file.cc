#include "storage/index_file.h"

#include <list>
#include <mutex>

namespace samsa::storage {

/// The process's open index files, least recently used first.
struct index_file_cache {
    std::mutex mu;
    std::list<index_file*> lru;
    size_t max_open = 1024;

    static index_file_cache& instance()
    {
        static index_file_cache c;
        return c;
    }

    /// Under mu: `f` is open (`was_open`: already in the list); make it the most recently used.
    void touch(index_file* f, bool was_open)
    {
        if (was_open) {
            lru.splice(lru.end(), lru, f->_lru_pos);
        } else {
            f->_lru_pos = lru.insert(lru.end(), f);
        }
    }

    /// Under mu: forgets `f` and closes its descriptor (users holding the file_ptr keep theirs).
    void drop(index_file* f)
    {
        if (!f->_file) return;
        lru.erase(f->_lru_pos);
        f->_file.reset();
    }

    /// Under mu: closes the least recently used files beyond max_open, never `keep`.
    void trim(index_file* keep)
    {
        while (lru.size() > max_open && lru.front() != keep) drop(lru.front());
    }
};

result<file_ptr> index_file::get()
{
    auto& c = index_file_cache::instance();
    std::lock_guard g(c.mu);
    bool was_open = _file != nullptr;
    if (!was_open) {
        SAMSA_TRY_ASSIGN(_file, _fs.open(_path, open_mode::create));
    }
    c.touch(this, was_open);
    c.trim(this);
    return _file;
}

void index_file::release()
{
    auto& c = index_file_cache::instance();
    std::lock_guard g(c.mu);
    c.drop(this);
}

bool index_file::exists()
{
    {
        auto& c = index_file_cache::instance();
        std::lock_guard g(c.mu);
        if (_file) return true;
    }
    return _fs.exists(_path);
}

size_t index_file::max_open()
{
    auto& c = index_file_cache::instance();
    std::lock_guard g(c.mu);
    return c.max_open;
}

void index_file::set_max_open(size_t n)
{
    auto& c = index_file_cache::instance();
    std::lock_guard g(c.mu);
    c.max_open = std::max<size_t>(n, 1);
    c.trim(nullptr);
}

size_t index_file::open_count()
{
    auto& c = index_file_cache::instance();
    std::lock_guard g(c.mu);
    return c.lru.size();
}

result<bytes> index_file::read_entries(size_t entry_size)
{
    if (!exists()) return bytes{};
    SAMSA_TRY_ASSIGN(auto f, get());
    SAMSA_TRY_ASSIGN(uint64_t sz, f->size());
    bytes raw(sz - sz % entry_size);
    SAMSA_TRY_ASSIGN(size_t n, f->pread(0, raw));
    raw.resize(n - n % entry_size);
    return raw;
}

result<uint64_t> index_file::size()
{
    if (!exists()) return uint64_t(0);
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
    if (!exists()) return ok();
    return truncate(0);
}

result<void> index_file::sync()
{
    SAMSA_TRY_ASSIGN(auto f, get());
    return f->sync();
}

} // namespace samsa::storage
