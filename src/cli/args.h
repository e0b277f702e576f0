#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::cli {

/// A failure the tool reports as one line on stderr before it exits with status 1. The CLI is
/// a short-lived process whose every failure ends it, so this is its startup-failure channel.
class cli_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A command-line mistake (unknown or malformed flag, missing or conflicting options): one line
/// on stderr and exit status 2.
class usage_error : public cli_error {
public:
    using cli_error::cli_error;
};

/// How many values an option takes.
enum class arity {
    flag,     // --from-beginning
    one,      // --topic T  or  --topic=T (the next token is taken even if it starts with '-')
    optional, // --state [VALUE]: takes the next token unless it starts with "--"
    many,     // --producer-props k=v k=v ...: every token up to the next "--option"
};

struct option_spec {
    std::string name; // without the leading "--"
    arity kind = arity::flag;
    std::string value_name; // for --help, e.g. "topic"
    std::string help;
};

/// A subcommand's options and help texts.
struct command_spec {
    std::string name;     // "topics"
    std::string summary;  // one paragraph for --help
    std::string examples; // lines shown under "Examples:"
    std::vector<option_spec> options;
};

/// The options given on one command line. An option given several times keeps every value in
/// order (repeatable options such as --property); value() returns the last one.
class parsed_args {
public:
    bool has(std::string_view name) const { return _values.find(std::string(name)) != _values.end(); }
    std::optional<std::string> value(std::string_view name) const;
    std::string value_or(std::string_view name, std::string fallback) const;
    std::vector<std::string> values(std::string_view name) const;
    /// The option as an integer; usage_error naming the option when it is not one.
    std::optional<int64_t> int_value(std::string_view name) const;
    int64_t int_or(std::string_view name, int64_t fallback) const;

    /// Used by parse().
    void add(const std::string& name, std::optional<std::string> value);

private:
    std::map<std::string, std::vector<std::string>, std::less<>> _values;
};

/// Parses `args` (the words after the subcommand name) as Kafka's tools (joptsimple) do:
/// `--name value`, `--name=value`, the single-dash forms `-name value` / `-name=value`, and any
/// unambiguous prefix of a name (`--bootstrap` for `--bootstrap-server`; an exact name wins over
/// longer ones). Values are recorded under the full name. Throws usage_error for an unknown
/// option (naming it), an ambiguous prefix (naming the candidates), a missing value, a value
/// given to a flag, or a stray positional word. `--help` / `-h` are recorded as "help".
parsed_args parse_args(const command_spec& spec, const std::vector<std::string>& args);

/// The --help text: usage line, summary, options (sorted) and examples.
std::string help_text(const command_spec& spec);

/// Adds --bootstrap-server (default localhost:9092) and --command-config to a spec.
void add_client_options(command_spec& spec);

/// Adds the deprecated --broker-list, for the tools whose Kafka counterpart still accepts it
/// (console-producer, consumer-perf-test). client_config::from_args warns when it is used.
void add_broker_list_option(command_spec& spec);

/// Parses a whole decimal integer ("12", "-3"); nullopt on anything else or on overflow.
std::optional<int64_t> parse_int(std::string_view s);

/// Splits "k=v" at the first '='; usage_error mentioning `flag` when there is none.
std::pair<std::string, std::string> split_key_value(std::string_view kv, std::string_view flag);

/// Splits on a separator character, keeping empty pieces.
std::vector<std::string> split(std::string_view s, char sep);

/// Throws usage_error unless exactly one of `actions` is present; the message lists them as
/// Kafka's tools do ("Command must include exactly one action: --list, --describe, ...").
void require_one_action(const parsed_args& a, const std::vector<std::string>& actions);

} // namespace samsa::cli
