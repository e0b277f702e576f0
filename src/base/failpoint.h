#pragma once

#include <string_view>

namespace samsa {

/// Crash points for tests of crash recovery: when the environment variable SAMSA_FAILPOINT
/// (read once) names this point, the process kills itself with SIGKILL on reaching it, as a
/// power cut would stop it there. Unset (always, outside such tests), a call costs one compare.
/// Points: txn-after-first-marker (the transaction coordinator has written one of a commit's
/// or abort's markers, not the rest).
void failpoint(std::string_view name);

} // namespace samsa
