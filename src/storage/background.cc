#include "storage/background.h"

namespace samsa::storage {

background::background(size_t threads, post_fn post) : _post(std::move(post))
{
    if (!_post) return;
    for (size_t i = 0; i < threads; ++i) _threads.emplace_back([this] { loop(); });
}

background::~background() { stop(); }

void background::run(std::function<void()> work, std::function<void()> done)
{
    {
        std::lock_guard g(_mu);
        if (!_threads.empty() && !_stopping) {
            _queue.emplace_back(std::move(work), std::move(done));
            _cv.notify_one();
            return;
        }
    }
    work();
    done();
}

void background::loop()
{
    for (;;) {
        std::pair<std::function<void()>, std::function<void()>> item;
        {
            std::unique_lock g(_mu);
            _cv.wait(g, [&] { return _stopping || !_queue.empty(); });
            if (_queue.empty()) return;
            item = std::move(_queue.front());
            _queue.pop_front();
            ++_active;
        }
        item.first();
        _post(std::move(item.second));
        std::lock_guard g(_mu);
        --_active;
        if (_queue.empty() && _active == 0) _idle.notify_all();
    }
}

void background::drain()
{
    std::unique_lock g(_mu);
    _idle.wait(g, [&] { return _queue.empty() && _active == 0; });
}

void background::stop()
{
    {
        std::unique_lock g(_mu);
        if (_threads.empty()) return;
        _idle.wait(g, [&] { return _queue.empty() && _active == 0; });
        _stopping = true;
    }
    _cv.notify_all();
    for (auto& t : _threads) t.join();
    _threads.clear();
}

} // namespace samsa::storage
