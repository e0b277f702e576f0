#include "cluster/errc.h"

#include <string>

namespace samsa::cluster {
namespace {

class cluster_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "cluster"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::not_leader: return "This server is not the leader for that topic-partition.";
        case errc::fenced_leader_epoch: return "The leader epoch in the request is older than the broker's.";
        case errc::unknown_leader_epoch: return "The leader epoch in the request is newer than the broker's.";
        case errc::timeout: return "The operation timed out.";
        case errc::not_enough_replicas: return "Messages are rejected since there are fewer in-sync replicas than required.";
        case errc::not_enough_replicas_after_append:
            return "Messages are written to the log, but to fewer in-sync replicas than required.";
        case errc::offset_out_of_range: return "The requested offset is not within the range of offsets maintained by the server.";
        case errc::policy_violation: return "The request parameters do not satisfy the configured policy.";
        case errc::shutting_down: return "The partition is shutting down.";
        }
        return "unknown cluster error";
    }
};

} // namespace

const std::error_category& cluster_category()
{
    static cluster_category_impl c;
    return c;
}

} // namespace samsa::cluster
