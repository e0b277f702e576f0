#pragma once

#include "base/result.h"
#include "bytes/bytes.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::storage {

/// One open file. Positional reads and writes only, so one handle can serve a writer and many
/// readers. Implementations: posix (real files), in-memory, fault-injecting wrapper.
/// Not thread-safe for concurrent writes; concurrent preads are fine.
class file {
public:
    virtual ~file() = default;
    /// Reads up to dst.size() bytes at `pos`; fewer only at end of file.
    virtual result<size_t> pread(uint64_t pos, mutable_bytes_view dst) = 0;
    /// Writes all of `src` at `pos` (or fails; a failed write may have written a prefix).
    virtual result<void> pwrite(uint64_t pos, bytes_view src) = 0;
    /// Writes several buffers back to back starting at `pos`.
    virtual result<void> pwritev(uint64_t pos, const std::vector<bytes_view>& bufs);
    /// Makes the data durable (fdatasync).
    virtual result<void> sync() = 0;
    virtual result<void> truncate(uint64_t size) = 0;
    virtual result<uint64_t> size() = 0;
    /// The OS descriptor for zero-copy sends, or -1 when the file is not a real file.
    virtual int native_handle() const { return -1; }
};
using file_ptr = std::shared_ptr<file>;

enum class open_mode {
    read_only,
    read_write,       // must exist
    create,           // read-write, created if missing
    create_exclusive, // read-write, must not exist
};

/// The storage engine's only way to the file system (LevelDB's Env). Paths are plain strings
/// joined with '/'.
class file_ops {
public:
    virtual ~file_ops() = default;
    virtual result<file_ptr> open(const std::string& path, open_mode mode) = 0;
    virtual result<void> remove(const std::string& path) = 0;
    /// Atomically replaces `to` with `from`.
    virtual result<void> rename(const std::string& from, const std::string& to) = 0;
    /// Names (not paths) of the entries of a directory, unsorted.
    virtual result<std::vector<std::string>> list_dir(const std::string& path) = 0;
    /// Creates a directory and any missing parents.
    virtual result<void> create_dirs(const std::string& path) = 0;
    /// Removes an empty directory.
    virtual result<void> remove_dir(const std::string& path) = 0;
    /// Makes the directory's entries (creations, renames, removals) durable.
    virtual result<void> sync_dir(const std::string& path) = 0;
    virtual bool exists(const std::string& path) = 0;
    virtual bool is_dir(const std::string& path) = 0;
    /// Free bytes on the file system holding `path`.
    virtual result<uint64_t> available_bytes(const std::string& path) = 0;

    /// Reads a whole file.
    result<bytes> read_file(const std::string& path);
    /// Writes `data` to `path` crash-safely: write `path.tmp`, sync it, rename over `path`,
    /// sync the directory. Readers see the old or the new content, never a mix. With `durable`
    /// false the syncs are left to the caller (the rename still makes the switch atomic).
    result<void> write_file_atomic(const std::string& path, bytes_view data, bool durable = true);
    /// Removes a directory and everything under it.
    result<void> remove_all(const std::string& path);
};

/// The real file system.
file_ops& posix_file_ops();

/// Path helpers.
std::string join_path(const std::string& dir, const std::string& name);

/// The longest file name (one path component) the file systems we run on allow, in bytes.
inline constexpr size_t max_file_name_bytes = 255;
/// What write_file_atomic() appends to the target's name for its temporary file.
inline constexpr std::string_view atomic_write_suffix = ".tmp";
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);

} // namespace samsa::storage
