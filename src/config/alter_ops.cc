#include "config/alter_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace samsa::config {
namespace {

std::string_view op_name(alter_op_type t)
{
    switch (t) {
    case alter_op_type::set: return "SET";
    case alter_op_type::remove: return "DELETE";
    case alter_op_type::append: return "APPEND";
    case alter_op_type::subtract: return "SUBTRACT";
    }
    return "UNKNOWN";
}

config_result<void> check_duplicates(std::span<const alter_op> ops)
{
    std::set<std::string_view> seen;
    for (const auto& op : ops) {
        if (!seen.insert(op.name).second) {
            return make_failure(errc::duplicate_config,
                                fmt::format("Config {} is named more than once in one request", op.name));
        }
    }
    return {};
}

std::vector<std::string> current_list(const property_map& overrides, const config_key& key,
                                      const inherited_value_fn& inherited)
{
    auto it = overrides.find(key.name);
    if (it != overrides.end()) return split_list(it->second);
    auto v = inherited(key);
    return is_null(v) ? std::vector<std::string>{} : as_list(v);
}

std::string apply_list_op(std::vector<std::string> items, alter_op_type op, std::string_view value)
{
    for (auto& element : split_list(value)) {
        auto pos = std::find(items.begin(), items.end(), element);
        if (op == alter_op_type::append && pos == items.end()) items.push_back(std::move(element));
        if (op == alter_op_type::subtract) items.erase(std::remove(items.begin(), items.end(), element), items.end());
    }
    return join_list(items);
}

} // namespace

config_result<alter_op_type> alter_op_from_code(int8_t code)
{
    if (code < 0 || code > 3) {
        return make_failure(errc::invalid_operation, fmt::format("Unknown config operation code {}", code));
    }
    return static_cast<alter_op_type>(code);
}

config_result<property_map> apply_alter_ops(const config_def& defs, std::string_view kind, property_map overrides,
                                            std::span<const alter_op> ops, const inherited_value_fn& inherited)
{
    if (auto dup = check_duplicates(ops); !dup) return dup.error();
    for (const auto& op : ops) {
        const config_key* key = defs.find(op.name);
        if (!key) return make_failure(errc::unknown_config, fmt::format("Unknown {} config name: {}", kind, op.name));
        if (op.op == alter_op_type::remove) {
            overrides.erase(op.name);
            continue;
        }
        if (!op.value) {
            return make_failure(errc::null_value,
                                fmt::format("{} of config {} needs a value", op_name(op.op), op.name));
        }
        if (op.op == alter_op_type::set) {
            overrides[op.name] = *op.value;
            continue;
        }
        if (key->type != config_type::list) {
            return make_failure(errc::not_a_list, fmt::format("{} is only allowed on LIST configs; {} is of type {}",
                                                              op_name(op.op), op.name, kafka_type_name(key->type)));
        }
        overrides[op.name] = apply_list_op(current_list(overrides, *key, inherited), op.op, *op.value);
    }
    return overrides;
}

} // namespace samsa::config
