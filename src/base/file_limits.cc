#include "base/file_limits.h"

#include <dirent.h>
#include <sys/resource.h>

namespace samsa {

file_limit open_file_limit()
{
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
    return {static_cast<size_t>(lim.rlim_cur), static_cast<size_t>(lim.rlim_max)};
}

file_limit raise_open_file_limit()
{
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
    file_limit before{static_cast<size_t>(lim.rlim_cur), static_cast<size_t>(lim.rlim_max)};
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &lim);
    }
    return before;
}

size_t open_files_in_use()
{
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return 0;
    size_t n = 0;
    while (auto* e = ::readdir(d)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    return n > 0 ? n - 1 : 0; // not counting the directory stream's own descriptor
}

} // namespace samsa
