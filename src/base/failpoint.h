#pragma once

#include <cstdint>
#include <string_view>

namespace samsa {

/// Crash points for tests of crash recovery: when the environment variable SAMSA_FAILPOINT
/// (read once) names this point, the process kills itself with SIGKILL on reaching it, as a
/// power cut would stop it there. Unset (always, outside such tests), a call costs one compare.
/// Points: txn-after-first-marker (the transaction coordinator has written one of a commit's
/// or abort's markers, not the rest).
void failpoint(std::string_view name);

/// Clock jumps for the chaos harness: when the environment variable SAMSA_CLOCK_SKEW_FILE
/// (read once) names a file, the wall clock (system_clock::now_ms, never the monotonic one) is
/// shifted by the milliseconds that file holds, re-read at most every 100 ms, so a test can
/// move one broker's wall time forwards or backwards while it runs. Unset, 0 at one compare.
int64_t wall_clock_skew_ms();

} // namespace samsa
