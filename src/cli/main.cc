// samsa: Kafka's command-line tools for a samsa (or any Kafka) cluster, with Kafka's flags.
//
//   samsa <command> [options]        e.g. samsa topics --list --bootstrap-server localhost:9092
//
// Every failure is one line on stderr: exit status 1 for runtime errors, 2 for usage errors.
#include "cli/args.h"
#include "cli/commands.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds: librdkafka 2.0.2 (not instrumented, not ours) leaks a few bytes on some
// admin-request error paths; keep LeakSanitizer's reports to leaks in our own code.
extern "C" const char* __lsan_default_suppressions()
{
    return "leak:librdkafka.so\n";
}
extern "C" const char* __lsan_default_options()
{
    return "print_suppressions=0";
}
#endif

namespace {

void usage(FILE* out)
{
    std::fputs("usage: samsa <command> [options]\n\n"
               "Kafka's command-line tools, with Kafka's flags (kafka-topics.sh --create ... becomes\n"
               "samsa topics --create ...). Run `samsa <command> --help` for a command's options.\n\n"
               "Commands:\n",
               out);
    for (auto& c : samsa::cli::all_commands()) {
        std::fprintf(out, "  %-20s %.*s\n", std::string(c.name).c_str(), static_cast<int>(c.summary.size()),
                     c.summary.data());
    }
    std::fputs("\nOptions:\n  --help      this text\n  --version   print the version\n", out);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return 0;
    }
    if (name == "--version") {
        std::printf("samsa 0.1.0 (librdkafka %s)\n", rd_kafka_version_str());
        return 0;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    for (auto& c : samsa::cli::all_commands()) {
        if (c.name != name) continue;
        try {
            return c.run(args);
        } catch (const samsa::cli::usage_error& e) {
            std::fprintf(stderr, "samsa %s: %s (see samsa %s --help)\n", name.c_str(), e.what(), name.c_str());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "samsa %s: %s\n", name.c_str(), e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "samsa: unknown command '%s' (see samsa --help)\n", name.c_str());
    return 2;
}
