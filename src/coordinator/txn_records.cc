#include "coordinator/txn_records.h"

#include "protocol/messages/transaction_log_key.h"
#include "protocol/messages/transaction_log_value.h"

namespace samsa::coordinator {

namespace {
constexpr int16_t key_version = 0;
constexpr int16_t value_version = 1;

class txn_record_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "txn_record"; }
    std::string message(int ev) const override
    {
        switch (static_cast<txn_record_errc>(ev)) {
        case txn_record_errc::malformed: return "malformed __transaction_state record";
        case txn_record_errc::unknown_version: return "unknown __transaction_state record version";
        case txn_record_errc::unknown_state: return "unknown transaction state id";
        }
        return "unknown txn_record error";
    }
};

template<typename T>
bytes encode_versioned(const T& msg, int16_t version)
{
    protocol::writer w;
    w.write_int16(version);
    msg.encode(w, version);
    return std::move(w).finish().data;
}

/// Reads the int16 version and decodes T at it when T's schema has it.
template<typename T>
result<T> decode_versioned(bytes_view b)
{
    try {
        protocol::reader r(b);
        int16_t v = r.read_int16();
        if (v < T::min_version || v > T::max_version) return fail(make_error_code(txn_record_errc::unknown_version));
        T msg;
        msg.decode(r, v);
        return msg;
    } catch (const protocol::decode_error&) {
        return fail(make_error_code(txn_record_errc::malformed));
    }
}
} // namespace

const std::error_category& txn_record_category()
{
    static txn_record_category_impl c;
    return c;
}

std::string_view txn_state_name(txn_state s)
{
    switch (s) {
    case txn_state::empty: return "Empty";
    case txn_state::ongoing: return "Ongoing";
    case txn_state::prepare_commit: return "PrepareCommit";
    case txn_state::prepare_abort: return "PrepareAbort";
    case txn_state::complete_commit: return "CompleteCommit";
    case txn_state::complete_abort: return "CompleteAbort";
    case txn_state::dead: return "Dead";
    case txn_state::prepare_epoch_fence: return "PrepareEpochFence";
    }
    return "Unknown";
}

std::optional<txn_state> txn_state_from_id(int8_t id)
{
    if (id < 0 || id > static_cast<int8_t>(txn_state::prepare_epoch_fence)) return std::nullopt;
    return static_cast<txn_state>(id);
}

bytes encode_txn_key(const std::string& transactional_id)
{
    protocol::transaction_log_key key;
    key.transactional_id = transactional_id;
    return encode_versioned(key, key_version);
}

bytes encode_txn_value(const txn_metadata& m)
{
    protocol::transaction_log_value val;
    val.producer_id = m.producer_id;
    val.previous_producer_id = m.previous_producer_id;
    val.next_producer_id = m.next_producer_id;
    val.producer_epoch = m.producer_epoch;
    val.transaction_timeout_ms = m.timeout_ms;
    val.transaction_status = static_cast<int8_t>(m.state);
    if (m.state == txn_state::empty) {
        val.transaction_partitions.reset(); // Kafka writes an Empty transaction's partitions as null
    } else {
        for (const auto& [topic, ids] : m.partitions) {
            auto& p = val.transaction_partitions->emplace_back();
            p.topic = topic;
            p.partition_ids.assign(ids.begin(), ids.end());
        }
    }
    val.transaction_last_update_timestamp_ms = m.last_update_ms;
    val.transaction_start_timestamp_ms = m.start_ms;
    val.client_transaction_version = m.client_transaction_version;
    return encode_versioned(val, value_version);
}

result<std::string> decode_txn_key(bytes_view b)
{
    SAMSA_TRY_ASSIGN(auto key, decode_versioned<protocol::transaction_log_key>(b));
    return std::move(key.transactional_id);
}

result<std::optional<txn_metadata>> decode_txn_value(const std::string& transactional_id,
                                                     std::optional<bytes_view> value)
{
    if (!value) return std::optional<txn_metadata>{};
    SAMSA_TRY_ASSIGN(auto val, decode_versioned<protocol::transaction_log_value>(*value));
    auto state = txn_state_from_id(val.transaction_status);
    if (!state) return fail(make_error_code(txn_record_errc::unknown_state));
    txn_metadata m;
    m.transactional_id = transactional_id;
    m.producer_id = val.producer_id;
    m.previous_producer_id = val.previous_producer_id;
    m.next_producer_id = val.next_producer_id;
    m.producer_epoch = val.producer_epoch;
    m.timeout_ms = val.transaction_timeout_ms;
    m.state = *state;
    if (*state != txn_state::empty && val.transaction_partitions) {
        for (auto& p : *val.transaction_partitions) {
            m.partitions[p.topic].insert(p.partition_ids.begin(), p.partition_ids.end());
        }
    }
    m.last_update_ms = val.transaction_last_update_timestamp_ms;
    m.start_ms = val.transaction_start_timestamp_ms;
    m.client_transaction_version = val.client_transaction_version;
    return std::optional<txn_metadata>(std::move(m));
}

} // namespace samsa::coordinator
