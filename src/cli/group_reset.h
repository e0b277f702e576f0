#pragma once

#include "cli/args.h"
#include "cli/group_admin.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace samsa::cli {

/// consumer-groups --reset-offsets: plans the new offsets of each selected group (which must be
/// Empty or unknown), prints the plan (GROUP TOPIC PARTITION NEW-OFFSET, or CSV with --export)
/// and commits it with --execute. Returns the exit status.
int reset_offsets(const admin_client& admin, const parsed_args& a);

/// "YYYY-MM-DDTHH:mm:SS[.sss][Z|+HH:mm|-HH:mm|+HHmm]" to epoch milliseconds; without a zone the
/// time is local. nullopt when malformed.
std::optional<int64_t> parse_datetime(std::string_view text);

/// An ISO-8601 duration as Java's Duration.parse reads it ("PT1H30M", "P2D", "PT0.5S") to
/// milliseconds. nullopt when malformed.
std::optional<int64_t> parse_duration(std::string_view text);

} // namespace samsa::cli
