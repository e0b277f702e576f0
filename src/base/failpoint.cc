#include "base/failpoint.h"

#include "base/logging.h"

#include <csignal>
#include <cstdlib>
#include <string>

namespace samsa {

void failpoint(std::string_view name)
{
    static const std::string armed = [] {
        const char* v = std::getenv("SAMSA_FAILPOINT");
        return std::string(v ? v : "");
    }();
    if (armed.empty() || armed != name) return;
    constexpr logger log{"failpoint"};
    log.warn("failpoint {} reached: killing the process", name);
    std::raise(SIGKILL);
}

} // namespace samsa
