#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace samsa::storage {

/// A small pool for blocking file work (fsyncs of rolled segments, checkpoint writes) so the
/// thread that owns the logs never waits for the disk. run(work, done): `work` runs on a pool
/// thread, then `done` is handed to `post` to run on the owner's thread. With no threads (or no
/// post function) both run at once on the caller: the synchronous mode tests use.
class background {
public:
    using post_fn = std::function<void(std::function<void()>)>;

    background(size_t threads, post_fn post);
    ~background();

    void run(std::function<void()> work, std::function<void()> done);
    /// Blocks until every queued work item has run (their `done` may still be pending).
    void drain();
    /// Drains, then stops the threads. Later run() calls execute synchronously.
    void stop();

private:
    void loop();

    post_fn _post;
    std::mutex _mu;
    std::condition_variable _cv;
    std::condition_variable _idle;
    std::deque<std::pair<std::function<void()>, std::function<void()>>> _queue;
    size_t _active = 0;
    bool _stopping = false;
    std::vector<std::thread> _threads;
};

} // namespace samsa::storage
