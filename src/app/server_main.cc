// samsa-server: the broker.
//
//   samsa-server [server.properties] [--override key=value]...
//
// With no properties file it runs the embedded default: one node listening on localhost:9092
// with its data under ./data. Kafka's property names and defaults apply otherwise.
#include "app/broker.h"
#include "base/logging.h"
#include "config/errors.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

void usage(FILE* out)
{
    std::fputs("usage: samsa-server [server.properties] [--override key=value]...\n"
               "\n"
               "Runs a Kafka-compatible broker. Properties use Kafka's names (listeners, log.dirs,\n"
               "num.partitions, log.retention.hours, ...). Without a properties file the broker runs\n"
               "as a single node on localhost:9092 with data under ./data.\n"
               "\n"
               "  --override key=value   set a property (repeatable; wins over the file)\n"
               "  --log-level LEVEL      trace, debug, info (default), warn, error\n"
               "  --version              print the version\n"
               "  --help                 this text\n",
               out);
}

} // namespace

int main(int argc, char** argv)
{
    // A client that goes away mid-response must never kill the broker: writes to a closed
    // socket (sendfile has no MSG_NOSIGNAL) report EPIPE instead.
    std::signal(SIGPIPE, SIG_IGN);
    std::optional<std::string> path;
    std::vector<std::string> overrides;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf("samsa-server %s\n", SAMSA_VERSION);
            return 0;
        }
        if ((a == "--override" || a == "--log-level") && i + 1 >= argc) {
            std::fprintf(stderr, "samsa-server: %s needs a value\n", a.c_str());
            return 2;
        }
        if (a == "--override") {
            overrides.push_back(argv[++i]);
        } else if (a == "--log-level") {
            samsa::log_level lvl;
            if (!samsa::parse_log_level(argv[++i], lvl)) {
                std::fprintf(stderr, "samsa-server: unknown log level %s\n", argv[i]);
                return 2;
            }
            samsa::set_log_level(lvl);
        } else if (a.rfind("--", 0) == 0) {
            std::fprintf(stderr, "samsa-server: unknown option %s (see --help)\n", a.c_str());
            return 2;
        } else if (!path) {
            path = a;
        } else {
            std::fprintf(stderr, "samsa-server: more than one properties file given (%s)\n", a.c_str());
            return 2;
        }
    }
    try {
        if (!path) {
            // The embedded default; explicit overrides still win.
            overrides.insert(overrides.begin(), {"listeners=PLAINTEXT://localhost:9092", "log.dirs=./data"});
        }
        auto props = samsa::config::load_server_properties(path, overrides);
        samsa::app::broker b(std::move(props));
        return b.run();
    } catch (const samsa::config::config_error& e) {
        std::fprintf(stderr, "samsa-server: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "samsa-server: %s\n", e.what());
        return 1;
    }
}
