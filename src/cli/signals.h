#pragma once

namespace samsa::cli {

/// Installs SIGINT/SIGTERM handlers that only set a flag (no SA_RESTART, so a blocked read(2)
/// returns EINTR). librdkafka blocks signals in its own threads, so they reach the main thread.
void install_stop_handler();

/// True once SIGINT or SIGTERM arrived.
bool stop_requested();

} // namespace samsa::cli
