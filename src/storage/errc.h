#pragma once

#include <string>
#include <system_error>

namespace samsa::storage {

/// Expected failures of the storage engine. Mapped to Kafka error codes by the broker.
enum class errc {
    io_error = 1,        // EIO or another error from the file system
    no_space,            // ENOSPC / EDQUOT
    not_found,           // a file or directory does not exist
    already_exists,      // a file or log exists where a new one was requested
    corrupt,             // on-disk bytes are not what the format says
    log_offline,         // the log refuses writes after an I/O failure
    offset_out_of_range, // a read below the log start or beyond the log end offset
    invalid_batch,       // an appended batch is not a valid v2 batch
    invalid_offset,      // offsets of appended batches go backwards
    batch_too_large,     // a batch larger than the segment can hold
    invalid_argument,    // a caller error (negative sizes, bad names)
    too_many_open_files, // EMFILE / ENFILE: the process or system file descriptor limit
    permission_denied,   // EACCES / EPERM
    read_only,           // EROFS
    name_too_long,       // ENAMETOOLONG
    not_a_directory,     // ENOTDIR: a path component is a file
    out_of_order_sequence,  // a producer's batch does not follow its last sequence number
    invalid_producer_epoch, // a producer's batch carries an epoch older than the producer's
    coordinator_fenced,     // a transaction marker from an older transaction coordinator
};

const std::error_category& storage_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), storage_category()}; }

/// Maps an errno value to the closest storage errc.
errc errc_from_errno(int e);

} // namespace samsa::storage

template<>
struct std::is_error_code_enum<samsa::storage::errc> : std::true_type {};
