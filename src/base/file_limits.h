#pragma once

#include <cstddef>

namespace samsa {

/// The process's descriptor limit (RLIMIT_NOFILE), soft and hard.
struct file_limit {
    size_t soft = 0;
    size_t hard = 0;
};

/// The current limit (zeros if it cannot be read).
file_limit open_file_limit();

/// Raises the soft limit to the hard one, as a broker that holds a descriptor per segment file
/// wants. Returns the limit before; open_file_limit() gives the one after.
file_limit raise_open_file_limit();

/// Descriptors this process has open now (entries of /proc/self/fd), or 0 if unknown.
size_t open_files_in_use();

} // namespace samsa
