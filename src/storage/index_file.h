#pragma once

#include "base/result.h"
#include "storage/file_ops.h"

#include <string>

namespace samsa::storage {

/// The file behind a sparse index (offset or time index), opened only while needed. Indexes
/// are read once into memory and written rarely, so an idle or sealed segment holds no file
/// descriptor for them: a broker with many partitions keeps about one descriptor per segment.
/// Owned by its index; not thread-safe.
class index_file {
public:
    index_file(file_ops& fs, std::string path) : _fs(fs), _path(std::move(path)) {}

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
    void release() { _file.reset(); }

    const std::string& path() const { return _path; }
    void set_path(std::string p)
    {
        _file.reset();
        _path = std::move(p);
    }

private:
    result<file_ptr> get();

    file_ops& _fs;
    std::string _path;
    file_ptr _file;
};

} // namespace samsa::storage
