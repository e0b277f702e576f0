#include "base/assert.h"

#include "base/logging.h"

#include <cstdlib>

namespace samsa::detail {

void assert_failed(const char* cond, const std::string& msg, std::source_location loc)
{
    static constexpr logger log{"assert"};
    log.error("assertion failed: {} ({}) at {}:{} in {}", cond, msg, loc.file_name(), loc.line(),
              loc.function_name());
    std::abort();
}

} // namespace samsa::detail
