#include "cli/tests/cli_fixture.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#ifndef SAMSA_CLI_BINARY
#error "SAMSA_CLI_BINARY must name the samsa binary"
#endif
#ifndef SAMSA_SERVER_BINARY
#error "SAMSA_SERVER_BINARY must name the samsa-server binary"
#endif

namespace samsa::cli::test {

std::string samsa_binary()
{
    return SAMSA_CLI_BINARY;
}

void cli_test::SetUp()
{
    work = std::make_unique<samsa::test::temp_dir>("samsa-cli-test");
    samsa::test::broker_options opts;
    opts.server_binary = SAMSA_SERVER_BINARY;
    opts.overrides = broker_overrides();
    broker = std::make_unique<samsa::test::broker_process>(opts);
}

void cli_test::TearDown()
{
    // A broker that died during the test explains every failure after that point.
    if (broker && !_stopped_on_purpose) {
        if (auto st = broker->exit_status()) {
            ADD_FAILURE() << "samsa-server died during the test: " << samsa::test::broker_process::describe_status(*st);
        }
    }
    if (HasFailure() && broker) {
        auto log = broker->log();
        if (log.size() > 6000) log = "..." + log.substr(log.size() - 6000);
        std::fprintf(stderr, "--- broker log (tail) ---\n%s\n", log.c_str());
    }
    broker.reset();
    work.reset();
}

std::vector<std::string> cli_test::argv(const std::string& command, std::vector<std::string> args) const
{
    std::vector<std::string> v{samsa_binary(), command};
    if (command != "dump-log") {
        v.push_back("--bootstrap-server");
        v.push_back(bootstrap());
    }
    v.insert(v.end(), args.begin(), args.end());
    return v;
}

run_result cli_test::samsa(const std::string& command, std::vector<std::string> args, std::string_view input,
                           std::chrono::milliseconds timeout)
{
    return run(argv(command, std::move(args)), input, timeout);
}

run_result cli_test::samsa_raw(std::vector<std::string> args, std::string_view input, std::chrono::milliseconds timeout)
{
    args.insert(args.begin(), samsa_binary());
    return run(args, input, timeout);
}

void cli_test::stop_broker()
{
    _stopped_on_purpose = true;
    broker->stop();
}

void cli_test::create_topic(const std::string& name, int partitions)
{
    auto r = samsa("topics", {"--create", "--topic", name, "--partitions", std::to_string(partitions),
                              "--replication-factor", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

void cli_test::produce(const std::string& topic, const std::string& lines, std::vector<std::string> extra)
{
    std::vector<std::string> args{"--topic", topic, "--sync"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = samsa("console-producer", args, lines);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

run_result cli_test::consume_partition(const std::string& topic, int partition, int count,
                                       std::vector<std::string> extra)
{
    std::vector<std::string> args{"--topic",      topic,      "--partition",    std::to_string(partition),
                                  "--offset",     "earliest", "--max-messages", std::to_string(count),
                                  "--timeout-ms", "20000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return samsa("console-consumer", args);
}

std::string cli_test::short_timeout_config(int ms)
{
    std::string path = *work / "short-timeout.properties";
    std::ofstream(path) << "# fail fast\ndefault.api.timeout.ms=" << ms << "\n";
    return path;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

int closed_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

} // namespace samsa::cli::test
