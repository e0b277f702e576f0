#include "cli/signals.h"

#include <csignal>

namespace samsa::cli {

namespace {

volatile std::sig_atomic_t stop_flag = 0;

extern "C" void on_stop_signal(int)
{
    stop_flag = 1;
}

} // namespace

void install_stop_handler()
{
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested()
{
    return stop_flag != 0;
}

} // namespace samsa::cli
