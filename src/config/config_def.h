#pragma once

#include "config/errors.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace samsa::config {

/// Kafka's config types, numbered as DescribeConfigs v3+ sends them (ConfigType field).
enum class config_type : int8_t {
    boolean = 1,
    string = 2,
    int32 = 3,   // INT
    int16 = 4,   // SHORT
    int64 = 5,   // LONG
    float64 = 6, // DOUBLE
    list = 7,
    class_name = 8, // CLASS
    password = 9,
};
/// "BOOLEAN", "INT", "LIST"… as Kafka names the types in messages and docs.
std::string_view kafka_type_name(config_type t);

enum class importance : int8_t { high, medium, low };

/// Kafka's dynamic update modes for broker configs. Topic configs are all `cluster_wide`
/// (changeable at any time) and are never read-only.
enum class update_mode : int8_t {
    read_only,    // needs a restart
    per_broker,   // AlterConfigs on the broker resource "<id>" only
    cluster_wide, // AlterConfigs on "<id>" or on the cluster default ""
};

/// A parsed value. Null (monostate) only for keys whose default is null and that are unset.
/// INT/SHORT/LONG are all held as int64 after their range is checked; STRING, PASSWORD and
/// CLASS as string; LIST as its trimmed elements.
using config_value = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>>;

/// Why a value failed its validator. `offending` names the element of a list that failed,
/// which the message then shows instead of the whole value (as Kafka does).
struct violation {
    std::string reason;
    std::optional<std::string> offending;
};

/// A check on a parsed, non-null value plus a short description for documentation
/// (e.g. "[14,...]", "[CreateTime, LogAppendTime]").
class validator {
public:
    using check_fn = std::function<std::optional<violation>(const config_value&)>;

    validator() = default; // accepts everything
    validator(check_fn check, std::string description);

    std::optional<violation> check(const config_value& v) const;
    const std::string& description() const { return _description; }

    /// Numbers at least `min`: "Value must be at least <min>".
    static validator at_least(int64_t min);
    /// Numbers in [min, max]: "Value must be at least <min>" / "Value must be no more than <max>".
    static validator between(double min, double max);
    /// A string that is one of `choices` (case-sensitive): "String must be one of: a, b".
    static validator one_of(std::vector<std::string> choices);
    /// A list whose every element is one of `choices`; empty lists allowed when `allow_empty`.
    static validator list_of(std::vector<std::string> choices, bool allow_empty);
    /// A string or list that is not empty: "String must be non-empty".
    static validator non_empty();

private:
    check_fn _check;
    std::string _description;
};

/// One defined property: Kafka's name, type and default (the raw default string, or nullopt
/// for Kafka's null default), the validator, a documentation line of our own, and for topic
/// configs the broker config it falls back to.
struct config_key {
    std::string name;
    config_type type = config_type::string;
    std::optional<std::string> default_value;
    validator valid;
    importance level = importance::medium;
    update_mode mode = update_mode::read_only;
    std::string documentation;
    std::string broker_synonym; // topic configs only

    bool sensitive() const { return type == config_type::password; }
};

/// An ordered table of config_keys, looked up by name.
class config_def {
public:
    /// Adds a key. Names must be unique and the default must parse and validate (asserted).
    config_def& define(config_key key);

    const config_key* find(std::string_view name) const;
    const std::vector<config_key>& keys() const { return _keys; }

private:
    std::vector<config_key> _keys;
    std::map<std::string, size_t, std::less<>> _index;
};

/// Parses `raw` as `key.type` and runs the validator. Values are trimmed first, except
/// passwords (as Kafka). Fails with errc::invalid_value and Kafka's message shape:
/// "Invalid value <raw> for configuration <name>: <reason>".
config_result<config_value> parse_value(const config_key& key, std::string_view raw);

/// The parsed default of `key` (monostate when the default is null).
config_value default_value(const config_key& key);

/// Renders a value the way Kafka describes it: "true", "1048588", "0.5", "1.0E7",
/// "compact,delete"; nullopt for null.
std::optional<std::string> format_value(const config_value& v);

/// Java's Double.toString: "0.5", "100.0", "1.0E7", "1.7976931348623157E308".
std::string format_java_double(double d);

/// Typed accessors; assert that the variant holds that alternative.
bool as_bool(const config_value& v);
int64_t as_int(const config_value& v);
double as_double(const config_value& v);
const std::string& as_string(const config_value& v);
const std::vector<std::string>& as_list(const config_value& v);
bool is_null(const config_value& v);

/// Splits a LIST value: trimmed elements separated by commas, "" giving an empty list.
std::vector<std::string> split_list(std::string_view raw);
std::string join_list(const std::vector<std::string>& items);

} // namespace samsa::config
