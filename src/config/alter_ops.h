#pragma once

#include "config/config_def.h"
#include "config/errors.h"
#include "config/properties.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace samsa::config {

/// IncrementalAlterConfigs operations, numbered as on the wire. `remove` is Kafka's DELETE.
enum class alter_op_type : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

struct alter_op {
    std::string name;
    alter_op_type op = alter_op_type::set;
    std::optional<std::string> value;
};

/// Checks a wire operation code. Fails with errc::invalid_operation for anything but 0..3.
config_result<alter_op_type> alter_op_from_code(int8_t code);

/// The value a config has when the override map does not set it (the broker's value for a
/// topic config, the lower layers' value for a dynamic broker config).
using inherited_value_fn = std::function<config_value(const config_key&)>;

/// Applies `ops` in order to a copy of `overrides` with Kafka's IncrementalAlterConfigs rules:
/// SET stores the value, DELETE (remove) drops the override, APPEND adds the elements that are
/// not already present and SUBTRACT removes the given elements; both start from the override,
/// or from the inherited value when there is none, and only work on LIST configs. Values are
/// not validated here: the caller validates the resulting map.
/// Failures: errc::duplicate_config (a name twice), errc::unknown_config (message
/// "Unknown <kind> config name: <name>"), errc::not_a_list, errc::null_value.
config_result<property_map> apply_alter_ops(const config_def& defs, std::string_view kind, property_map overrides,
                                            std::span<const alter_op> ops, const inherited_value_fn& inherited);

} // namespace samsa::config
