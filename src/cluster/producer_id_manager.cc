#include "cluster/producer_id_manager.h"

#include "base/logging.h"

namespace samsa::cluster {
namespace {
constexpr logger log{"cluster"};
} // namespace

boost::asio::awaitable<result<producer_id>> producer_id_manager::next()
{
    if (!_block || _next > _block->last) {
        // (No co_await inside ?: — g++ 12 miscompiles it.)
        result<producer_id_block> b = producer_id_block{};
        if (_allocate) b = co_await _allocate(_self, block_size);
        else b = _store.allocate_producer_id_block(_self, block_size);
        if (!b) {
            log.warn("cannot reserve a block of producer ids: {}", b.error().message());
            co_return b.error();
        }
        log.info("reserved producer ids {} to {}", b->first, b->last);
        _block = *b;
        _next = b->first;
    }
    co_return producer_id(_next++);
}

} // namespace samsa::cluster
