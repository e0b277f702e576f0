#pragma once

#include "storage/file_ops.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace samsa::storage {

/// An in-memory file system for tests that models what survives a power failure:
/// - file contents survive only up to their last sync(); unsynced writes are lost;
/// - directory entries (creations, renames, removals of files) survive only once the
///   directory has been synced with sync_dir();
/// - directories themselves are durable as soon as they are created (a simplification).
/// simulate_crash() applies those rules. Open handles keep working after unlink, as on POSIX.
/// Thread-safe.
class mem_file_ops final : public file_ops {
public:
    mem_file_ops();
    ~mem_file_ops() override;

    result<file_ptr> open(const std::string& path, open_mode mode) override;
    result<void> remove(const std::string& path) override;
    result<void> rename(const std::string& from, const std::string& to) override;
    result<std::vector<std::string>> list_dir(const std::string& path) override;
    result<void> create_dirs(const std::string& path) override;
    result<void> remove_dir(const std::string& path) override;
    result<void> sync_dir(const std::string& path) override;
    bool exists(const std::string& path) override;
    bool is_dir(const std::string& path) override;
    result<uint64_t> available_bytes(const std::string& path) override;

    /// Drops everything that was not made durable, as a power failure would.
    void simulate_crash();
    /// Direct access for tests that corrupt files: the current content of a file.
    bytes* raw(const std::string& path);
    /// Sets the space the "device" reports as available (default: plenty).
    void set_available_bytes(uint64_t n);

    struct inode;

private:
    result<void> rename_dir(const std::string& from, const std::string& to);

    mutable std::mutex _mu;
    std::map<std::string, std::shared_ptr<inode>> _files;
    std::map<std::string, std::shared_ptr<inode>> _durable_files;
    std::set<std::string> _dirs;
    uint64_t _available = uint64_t(1) << 40;
};

} // namespace samsa::storage
