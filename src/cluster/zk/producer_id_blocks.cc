#include "cluster/zk/producer_id_blocks.h"

#include "cluster/zk/znodes.h"

namespace samsa::cluster::zk {

namespace {
/// Gives up after this many lost races in a row (brokers allocate a block per 1,000 ids).
constexpr int max_attempts = 100;
} // namespace

boost::asio::awaitable<result<producer_id_block>> allocate_producer_id_block(session& zk, node_id broker, int64_t size)
{
    const std::string path(paths::latest_producer_id_block);
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        auto current = co_await zk.get(path);
        producer_id_block_znode next{broker(), 0, size - 1};
        if (current) {
            auto last = decode_producer_id_block(current->data);
            if (!last) co_return last.error();
            next.block_start = last->block_end + 1;
            next.block_end = next.block_start + size - 1;
            auto written = co_await zk.set(path, encode_producer_id_block(next), current->version);
            if (!written && written.error() == make_error_code(session_errc::bad_version)) continue;
            if (!written) co_return written.error();
        } else if (current.error() == make_error_code(session_errc::no_node)) {
            auto created = co_await zk.create(path, encode_producer_id_block(next), create_mode::persistent);
            if (!created && created.error() == make_error_code(session_errc::node_exists)) continue;
            if (!created) co_return created.error();
        } else {
            co_return current.error();
        }
        co_return producer_id_block{broker, next.block_start, next.block_end};
    }
    co_return make_error_code(session_errc::bad_version);
}

} // namespace samsa::cluster::zk
