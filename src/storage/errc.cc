#include "storage/errc.h"

#include <cerrno>

namespace samsa::storage {
namespace {

class storage_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "storage"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::io_error: return "I/O error";
        case errc::no_space: return "no space left on device";
        case errc::not_found: return "not found";
        case errc::already_exists: return "already exists";
        case errc::corrupt: return "corrupt data";
        case errc::log_offline: return "log is offline after an I/O failure";
        case errc::offset_out_of_range: return "offset out of range";
        case errc::invalid_batch: return "invalid record batch";
        case errc::invalid_offset: return "batch offsets are not increasing";
        case errc::batch_too_large: return "batch larger than a segment";
        case errc::invalid_argument: return "invalid argument";
        case errc::too_many_open_files: return "too many open files (raise the file descriptor limit, ulimit -n)";
        case errc::permission_denied: return "Permission denied";
        case errc::read_only: return "Read-only file system";
        case errc::name_too_long: return "File name too long";
        case errc::not_a_directory: return "Not a directory";
        case errc::out_of_order_sequence: return "out of order sequence number";
        case errc::invalid_producer_epoch: return "producer epoch older than the current one";
        case errc::coordinator_fenced: return "transaction marker from an older coordinator epoch";
        }
        return "unknown storage error";
    }
};

} // namespace

const std::error_category& storage_category()
{
    static storage_category_impl c;
    return c;
}

errc errc_from_errno(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT: return errc::no_space;
    case ENOENT: return errc::not_found;
    case EEXIST: return errc::already_exists;
    case EINVAL: return errc::invalid_argument;
    case EMFILE:
    case ENFILE: return errc::too_many_open_files;
    case EACCES:
    case EPERM: return errc::permission_denied;
    case EROFS: return errc::read_only;
    case ENAMETOOLONG: return errc::name_too_long;
    case ENOTDIR: return errc::not_a_directory;
    default: return errc::io_error;
    }
}

} // namespace samsa::storage
