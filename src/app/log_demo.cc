// samsa-log-demo: a small tour of the storage engine on real files. Appends batches to the
// partition log `demo-0` under the given directory, reads them back by offset and by
// timestamp, closes it uncleanly and reopens it so recovery runs, then prints the log's state.
#include "base/clock.h"
#include "base/logging.h"
#include "protocol/record_batch_builder.h"
#include "storage/log.h"

#include <fmt/format.h>

using namespace samsa;
using namespace samsa::storage;

namespace {

int fail(const char* what, std::error_code ec)
{
    fmt::print(stderr, "samsa-log-demo: {}: {}\n", what, ec.message());
    return 1;
}

} // namespace

int main(int argc, char** argv)
{
    std::string root = argc > 1 ? argv[1] : "./data";
    std::string dir = root + "/demo-0";
    log_config cfg;
    cfg.segment_bytes = 1 << 20; // small segments so the demo rolls a few
    auto& clk = system_clock::instance();

    auto l = log::open(posix_file_ops(), dir, {"demo", partition_id(0)}, cfg, clk, {});
    if (!l) return fail("open", l.error());
    fmt::print("opened {}: log start {}, log end {}, {} segment(s)\n", dir, (*l)->log_start_offset(),
               (*l)->log_end_offset(), (*l)->segment_count());

    offset first_new = (*l)->log_end_offset();
    timestamp_ms start_ts = clk.now_ms();
    for (int b = 0; b < 200; ++b) {
        protocol::batch_builder builder;
        for (int r = 0; r < 50; ++r) {
            builder.add(fmt::format("key-{}", r), fmt::format("batch {} record {} of the samsa log demo", b, r),
                        timestamp_ms(start_ts() + b));
        }
        auto batch = builder.build();
        auto info = (*l)->append_as_leader(batch, leader_epoch(0));
        if (!info) return fail("append", info.error());
    }
    fmt::print("appended 10000 records at offsets {}..{} in {} segment(s)\n", first_new,
               (*l)->log_end_offset() - 1, (*l)->segment_count());

    auto slice = (*l)->read(first_new + 1234, 4096, (*l)->log_end_offset(), true);
    if (!slice) return fail("read", slice.error());
    fmt::print("read from offset {}: {} bytes of whole batches, offsets {}..{}\n", first_new + 1234, slice->size,
               slice->first_offset, slice->last_offset);
    auto by_ts = (*l)->find_by_timestamp(timestamp_ms(start_ts() + 100));
    if (!by_ts) return fail("timestamp lookup", by_ts.error());
    if (*by_ts) fmt::print("first batch with timestamp >= start+100ms begins at offset {}\n", (*by_ts)->off);

    offset end = (*l)->log_end_offset();
    l->reset(); // no clean shutdown: the next open recovers the unflushed tail
    auto again = log::open(posix_file_ops(), dir, {"demo", partition_id(0)}, cfg, clk, {});
    if (!again) return fail("reopen", again.error());
    fmt::print("reopened with recovery: log end {} (was {}), {} bytes cut\n", (*again)->log_end_offset(), end,
               (*again)->recovered_truncated_bytes());
    if (auto r = (*again)->close(true); !r) return fail("close", r.error());
    return (*again)->log_end_offset() == end ? 0 : 1;
}
