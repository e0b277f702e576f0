#pragma once

#include "storage/file_ops.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace samsa::storage {

/// Wraps another file_ops and makes chosen operations fail, for tests of I/O failure handling:
/// EIO or ENOSPC on writes, syncs, opens, renames; a write that lands only partly before it
/// fails; a device that fills up after N more bytes. Thread-safe.
class faulty_file_ops final : public file_ops {
public:
    enum class op { write, sync, open, rename, remove, sync_dir, truncate, any };

    struct fault {
        op target = op::any;
        /// Only paths containing this substring (empty: every path).
        std::string path_contains;
        /// Let this many matching calls succeed before failing.
        int skip = 0;
        /// How many matching calls fail once triggered (-1: all from then on).
        int count = 1;
        std::error_code error;
        /// For writes: write the first half of the buffer before failing.
        bool partial = false;
    };

    explicit faulty_file_ops(file_ops& inner) : _inner(inner) {}

    void inject(fault f);
    void clear();
    /// Writes under `path_prefix` (every path by default) that would take the total written
    /// there from now on beyond `bytes` fail with no_space after writing what fits, and
    /// available_bytes() under the prefix reports what is left. UINT64_MAX lifts the limit.
    void set_space_limit(uint64_t bytes, std::string path_prefix = {});
    /// Number of matching calls seen, per operation.
    int calls(op o) const;

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

    /// Internal: decides whether a call fails. Returns the error, or an empty code; sets
    /// `partial` when a write should land half its bytes first.
    std::error_code check(op o, const std::string& path, bool* partial = nullptr);
    /// Internal: space accounting for writes; returns how many of `n` bytes fit.
    uint64_t reserve_space(const std::string& path, uint64_t n);

private:
    file_ops& _inner;
    mutable std::mutex _mu;
    std::vector<fault> _faults;
    int _calls[8] = {};
    /// Path prefix → bytes left.
    std::map<std::string, uint64_t> _space_left;
};

/// Wraps a real file system and journals, after every successful sync, the size each file had
/// at that moment. After the process is killed, drop_unsynced_data() cuts every file under a
/// directory back to its last synced size, as a power failure could: a stand-in for losing the
/// page cache, usable across processes. Files never synced are cut to zero length.
class sync_journal_file_ops final : public file_ops {
public:
    sync_journal_file_ops(file_ops& inner, std::string journal_path);

    result<file_ptr> open(const std::string& path, open_mode mode) override;
    result<void> remove(const std::string& path) override;
    result<void> rename(const std::string& from, const std::string& to) override;
    result<std::vector<std::string>> list_dir(const std::string& path) override { return _inner.list_dir(path); }
    result<void> create_dirs(const std::string& path) override { return _inner.create_dirs(path); }
    result<void> remove_dir(const std::string& path) override { return _inner.remove_dir(path); }
    result<void> sync_dir(const std::string& path) override { return _inner.sync_dir(path); }
    bool exists(const std::string& path) override { return _inner.exists(path); }
    bool is_dir(const std::string& path) override { return _inner.is_dir(path); }
    result<uint64_t> available_bytes(const std::string& path) override { return _inner.available_bytes(path); }

    /// Internal: appends one journal line.
    void record(const std::string& line);

    /// Applies a journal to the files under `root`; returns the number of files cut.
    static result<size_t> drop_unsynced_data(file_ops& fs, const std::string& journal_path, const std::string& root);

private:
    file_ops& _inner;
    std::mutex _mu;
    file_ptr _journal;
    uint64_t _journal_pos = 0;
};

} // namespace samsa::storage
