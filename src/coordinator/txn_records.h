#pragma once

#include "base/result.h"
#include "bytes/bytes.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace samsa::coordinator {

/// The records of `__transaction_state`, in Kafka's formats: key = int16 version +
/// TransactionLogKey (v0: the transactional id), value = int16 version + TransactionLogValue,
/// a null value being a tombstone (the transactional id expired).
///   key v0: TransactionLogKey (transactional id) → value TransactionLogValue (v1 written)

/// A transaction's state, with Kafka's ids: the int8 TransactionStatus of the value record.
enum class txn_state : int8_t {
    empty = 0,
    ongoing = 1,
    prepare_commit = 2,
    prepare_abort = 3,
    complete_commit = 4,
    complete_abort = 5,
    dead = 6,
    prepare_epoch_fence = 7,
};

/// Kafka's name of the state ("Empty", "PrepareCommit", ...: what DescribeTransactions and
/// ListTransactions report); "Unknown" for ids outside the enum.
std::string_view txn_state_name(txn_state s);
/// The state of a wire id, nullopt for ids Kafka does not define.
std::optional<txn_state> txn_state_from_id(int8_t id);

/// What a TransactionLogValue holds about one transactional id.
struct txn_metadata {
    std::string transactional_id;
    int64_t producer_id = -1;
    /// Tagged fields of v1 (written when not -1).
    int64_t previous_producer_id = -1;
    int64_t next_producer_id = -1;
    int16_t producer_epoch = -1;
    /// Not in the record (Kafka neither stores it): -1 after decoding.
    int16_t last_producer_epoch = -1;
    int32_t timeout_ms = 0;
    txn_state state = txn_state::empty;
    /// Topic → partitions in the transaction. An Empty transaction has none: its record carries
    /// a null partition list (as Kafka writes it), so partitions given with state Empty are not
    /// written and never read back.
    std::map<std::string, std::set<int32_t>> partitions;
    int64_t last_update_ms = -1;
    int64_t start_ms = -1;
    /// The transaction.version the client uses (tagged in v1, written when not 0; int16 on the
    /// wire as in Kafka).
    int16_t client_transaction_version = 0;

    bool operator==(const txn_metadata&) const = default;
};

/// Decoding failures, in their own category.
enum class txn_record_errc {
    malformed = 1,   // short or invalid bytes
    unknown_version, // a key or value version the schemas do not define
    unknown_state,   // a TransactionStatus outside Kafka's ids 0-7
};
const std::error_category& txn_record_category();
inline std::error_code make_error_code(txn_record_errc e) { return {static_cast<int>(e), txn_record_category()}; }

/// The key record: int16 version 0, then the transactional id as an int16-length string.
bytes encode_txn_key(const std::string& transactional_id);
/// The value record, always TransactionLogValue v1: the newest version of the schema, the one
/// Kafka 4.x writes once transaction.version >= 1 (it writes v0 only under transaction.version
/// 0), and the only one that can carry the previous/next producer ids and the client's
/// transaction version. Never a tombstone: callers write a null value themselves.
bytes encode_txn_value(const txn_metadata& m);

/// The transactional id of a key record; unknown_version for versions other than 0.
result<std::string> decode_txn_key(bytes_view key);
/// The metadata of a value record (v0 or v1), nullopt for a tombstone (no value). As Kafka
/// does, the partitions of an Empty transaction are ignored.
result<std::optional<txn_metadata>> decode_txn_value(const std::string& transactional_id,
                                                     std::optional<bytes_view> value);

} // namespace samsa::coordinator

template<>
struct std::is_error_code_enum<samsa::coordinator::txn_record_errc> : std::true_type {};
