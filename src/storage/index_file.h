#pragma once

#include "base/result.h"
#include "storage/file_ops.h"

#include <list>
#include <string>

namespace samsa::storage {

/// The file behind a sparse index (offset or time index), opened only while needed. Indexes
/// are read once into memory and written rarely, so a sealed segment holds no descriptor for
/// them, and the active segments' index descriptors are a small cache: at most max_open()
/// index files are open in the process, the least recently used closed to make room (the next
/// access reopens it). A broker with many partitions thus holds about one descriptor per
/// segment (its .log) plus at most max_open(), as Kafka (whose indexes are memory-mapped).
///
/// Owned by its index and used from one thread at a time; the cache is shared by every thread
/// (cleaner threads build new segments' indexes), so the descriptor is only touched under the
/// cache's lock. Neither copyable nor movable: the cache refers to it by address.
class index_file {
public:
    index_file(file_ops& fs, std::string path) : _fs(fs), _path(std::move(path)) {}
    ~index_file() { release(); }
    index_file(const index_file&) = delete;
    index_file& operator=(const index_file&) = delete;

    /// Every whole `entry_size`-byte entry of the file (a missing file has none).
    result<bytes> read_entries(size_t entry_size);
    /// The file's size in bytes (0 when it does not exist).
    result<uint64_t> size();
    result<void> write_at(uint64_t pos, bytes_view data);
    result<void> truncate(uint64_t size);
    /// Replaces the whole content.
    result<void> rewrite(bytes_view data);
    /// Truncates the file if it exists (creates nothing).
    result<void> clear();
    result<void> sync();
    /// Closes the descriptor; the next access reopens it.
    void release();

    const std::string& path() const { return _path; }
    void set_path(std::string p)
    {
        release();
        _path = std::move(p);
    }

    /// How many index files may be open at once in this process (default 1024).
    static size_t max_open();
    static void set_max_open(size_t n);
    /// How many are open now.
    static size_t open_count();

private:
    /// The open file (opening it, and closing the least recently used other, if needed).
    result<file_ptr> get();
    /// Whether the file exists, open or not.
    bool exists();

    file_ops& _fs;
    std::string _path;
    file_ptr _file;                             // under the cache's lock
    std::list<index_file*>::iterator _lru_pos; // in the cache's list while _file is open
    friend struct index_file_cache;
};

} // namespace samsa::storage
