#include "storage/errc.h"
#include "storage/file_ops.h"

#include <cerrno>
#include <climits>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

namespace samsa::storage {
namespace {

std::error_code from_errno(int e) { return make_error_code(errc_from_errno(e)); }

class posix_file final : public file {
public:
    explicit posix_file(int fd) : _fd(fd) {}
    ~posix_file() override { ::close(_fd); }

    result<size_t> pread(uint64_t pos, mutable_bytes_view dst) override
    {
        size_t done = 0;
        while (done < dst.size()) {
            ssize_t n = ::pread(_fd, dst.data() + done, dst.size() - done, static_cast<off_t>(pos + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                return from_errno(errno);
            }
            if (n == 0) break;
            done += static_cast<size_t>(n);
        }
        return done;
    }

    result<void> pwrite(uint64_t pos, bytes_view src) override
    {
        size_t done = 0;
        while (done < src.size()) {
            ssize_t n = ::pwrite(_fd, src.data() + done, src.size() - done, static_cast<off_t>(pos + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                return from_errno(errno);
            }
            done += static_cast<size_t>(n);
        }
        return ok();
    }

    result<void> pwritev(uint64_t pos, const std::vector<bytes_view>& bufs) override
    {
        std::vector<iovec> iov;
        iov.reserve(bufs.size());
        for (auto b : bufs) {
            if (!b.empty()) iov.push_back({const_cast<uint8_t*>(b.data()), b.size()});
        }
        size_t idx = 0;
        while (idx < iov.size()) {
            int cnt = static_cast<int>(std::min<size_t>(iov.size() - idx, IOV_MAX));
            ssize_t n = ::pwritev(_fd, iov.data() + idx, cnt, static_cast<off_t>(pos));
            if (n < 0) {
                if (errno == EINTR) continue;
                return from_errno(errno);
            }
            pos += static_cast<uint64_t>(n);
            // Skip the buffers fully written; trim a partially written one.
            auto left = static_cast<size_t>(n);
            while (idx < iov.size() && left >= iov[idx].iov_len) left -= iov[idx++].iov_len;
            if (idx < iov.size() && left > 0) {
                iov[idx].iov_base = static_cast<uint8_t*>(iov[idx].iov_base) + left;
                iov[idx].iov_len -= left;
            }
        }
        return ok();
    }

    result<void> sync() override
    {
        if (::fdatasync(_fd) != 0) return from_errno(errno);
        return ok();
    }

    result<void> truncate(uint64_t size) override
    {
        if (::ftruncate(_fd, static_cast<off_t>(size)) != 0) return from_errno(errno);
        return ok();
    }

    result<uint64_t> size() override
    {
        struct stat st {};
        if (::fstat(_fd, &st) != 0) return from_errno(errno);
        return static_cast<uint64_t>(st.st_size);
    }

    int native_handle() const override { return _fd; }

private:
    int _fd;
};

class posix_ops final : public file_ops {
public:
    result<file_ptr> open(const std::string& path, open_mode mode) override
    {
        int flags = O_CLOEXEC;
        switch (mode) {
        case open_mode::read_only: flags |= O_RDONLY; break;
        case open_mode::read_write: flags |= O_RDWR; break;
        case open_mode::create: flags |= O_RDWR | O_CREAT; break;
        case open_mode::create_exclusive: flags |= O_RDWR | O_CREAT | O_EXCL; break;
        }
        int fd = ::open(path.c_str(), flags, 0644);
        if (fd < 0) return from_errno(errno);
        return file_ptr(std::make_shared<posix_file>(fd));
    }

    result<void> remove(const std::string& path) override
    {
        if (::unlink(path.c_str()) != 0) return from_errno(errno);
        return ok();
    }

    result<void> rename(const std::string& from, const std::string& to) override
    {
        if (::rename(from.c_str(), to.c_str()) != 0) return from_errno(errno);
        return ok();
    }

    result<std::vector<std::string>> list_dir(const std::string& path) override
    {
        DIR* d = ::opendir(path.c_str());
        if (!d) return from_errno(errno);
        std::vector<std::string> out;
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") out.push_back(std::move(n));
        }
        ::closedir(d);
        return out;
    }

    result<void> create_dirs(const std::string& path) override
    {
        if (path.empty() || is_dir(path)) return ok();
        auto parent = parent_dir(path);
        if (parent != path && !is_dir(parent)) SAMSA_TRY(create_dirs(parent));
        if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return from_errno(errno);
        return ok();
    }

    result<void> remove_dir(const std::string& path) override
    {
        if (::rmdir(path.c_str()) != 0) return from_errno(errno);
        return ok();
    }

    result<void> sync_dir(const std::string& path) override
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return from_errno(errno);
        int rc = ::fsync(fd);
        int e = errno;
        ::close(fd);
        if (rc != 0) return from_errno(e);
        return ok();
    }

    bool exists(const std::string& path) override
    {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0;
    }

    bool is_dir(const std::string& path) override
    {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }

    result<uint64_t> available_bytes(const std::string& path) override
    {
        struct statvfs st {};
        if (::statvfs(path.c_str(), &st) != 0) return from_errno(errno);
        return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    }
};

} // namespace

file_ops& posix_file_ops()
{
    static posix_ops ops;
    return ops;
}

} // namespace samsa::storage
