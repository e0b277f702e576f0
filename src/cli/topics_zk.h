#pragma once

#include "cli/args.h"

namespace samsa::cli {

/// `samsa topics --zookeeper HOST:PORT[/chroot] ...`: --list, --describe, --create, --alter
/// --partitions and --delete on the znodes of Kafka's ZooKeeper layout, with the same flags
/// and output as the --bootstrap-server form. Throws cli_error / usage_error.
int run_topics_zookeeper(const parsed_args& a);

} // namespace samsa::cli
