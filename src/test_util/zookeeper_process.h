#pragma once

#include "test_util/temp_dir.h"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace samsa::test {

/// A real Apache ZooKeeper server (Debian's `zookeeper` package: ZooKeeperServerMain from
/// /usr/share/java/zookeeper.jar) on 127.0.0.1 with a free port and a temporary data
/// directory, for integration tests. The constructor waits until it accepts connections and
/// throws std::runtime_error (with its log) otherwise; the destructor kills it and removes the
/// directory. stop() and start() restart it on the same port and data.
class zookeeper_process {
public:
    zookeeper_process();
    ~zookeeper_process();
    zookeeper_process(const zookeeper_process&) = delete;
    zookeeper_process& operator=(const zookeeper_process&) = delete;

    uint16_t port() const { return _port; }
    /// "127.0.0.1:PORT", for zookeeper.connect.
    std::string connect() const;
    void stop();
    void start();
    std::string log() const;

private:
    std::unique_ptr<temp_dir> _dir;
    pid_t _pid = -1;
    uint16_t _port = 0;
};

} // namespace samsa::test
