#include "kafka/handlers/api_versions.h"

#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "protocol/messages/api_versions.h"

namespace samsa::kafka {

namespace {
constexpr std::string_view transaction_version_feature = "transaction.version";

std::vector<protocol::api_versions_response::api_version> served_versions()
{
    std::vector<protocol::api_versions_response::api_version> out;
    for (auto& h : api_handlers()) out.push_back({static_cast<int16_t>(h.key), h.min_version, h.max_version});
    return out;
}
} // namespace

void encode_unsupported_api_versions(protocol::writer& out)
{
    protocol::api_versions_response resp;
    resp.error_code = code(protocol::error_code::unsupported_version);
    resp.api_keys = served_versions();
    resp.encode(out, 0);
}

boost::asio::awaitable<bool> handle_api_versions(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::api_versions_request>(ctx);
    (void)req; // client software name/version (v3+) are informational
    protocol::api_versions_response resp;
    resp.api_keys = served_versions();
    // transaction.version 2 (KIP-890 part 2: an epoch bump per transaction, partitions added
    // by Produce v12 and TxnOffsetCommit v5) is finalized; clients that do not read features,
    // and older versions of those APIs, get the version-1 flow.
    resp.supported_features.push_back({std::string(transaction_version_feature), 0, 2});
    resp.finalized_features_epoch = 1;
    resp.finalized_features.push_back({std::string(transaction_version_feature), 2, 2});
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
