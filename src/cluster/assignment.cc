#include "cluster/assignment.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace samsa::cluster {

namespace {
/// The index of a partition's `nth` follower: its first replica shifted by 1 + (shift + nth) mod
/// (brokers - 1), never the first replica itself.
size_t follower_index(size_t first, int64_t shift, int64_t nth, size_t n)
{
    auto step = 1 + static_cast<size_t>((shift + nth) % static_cast<int64_t>(n - 1));
    return (first + step) % n;
}

/// Racks round-robin: the first broker of each rack (racks by name, brokers by id), then the
/// second of each, ...
std::vector<assignable_broker> rack_alternated(const std::vector<assignable_broker>& sorted)
{
    std::map<std::string, std::vector<assignable_broker>> by_rack;
    for (auto& b : sorted) by_rack[*b.rack].push_back(b);
    std::vector<assignable_broker> out;
    for (size_t round = 0; out.size() < sorted.size(); ++round) {
        for (auto& [rack, members] : by_rack) {
            if (round < members.size()) out.push_back(members[round]);
        }
    }
    return out;
}
} // namespace

op_result<std::vector<replica_assignment>> assign_replicas(std::vector<assignable_broker> brokers, int32_t count,
                                                           int16_t replication_factor, assignment_start start,
                                                           int32_t first_partition)
{
    if (replication_factor <= 0) {
        return make_error(errc::invalid_replication_factor, "Replication factor must be larger than 0.");
    }
    if (static_cast<size_t>(replication_factor) > brokers.size()) {
        return make_error(errc::invalid_replication_factor,
                          fmt::format("Replication factor: {} larger than available brokers: {}.", replication_factor,
                                      brokers.size()));
    }
    std::sort(brokers.begin(), brokers.end(), [](auto& a, auto& b) { return a.id < b.id; });
    size_t with_rack = std::count_if(brokers.begin(), brokers.end(), [](auto& b) { return b.rack.has_value(); });
    if (with_rack != 0 && with_rack != brokers.size()) {
        return make_error(errc::invalid_replica_assignment,
                          "Not all brokers have rack information for replica rack aware assignment.");
    }
    const size_t n = brokers.size();
    const bool racks = with_rack == n;
    auto arranged = racks ? rack_alternated(brokers) : brokers;
    std::set<std::string> all_racks;
    if (racks) {
        for (auto& b : brokers) all_racks.insert(*b.rack);
    }
    const int64_t num_racks = racks ? static_cast<int64_t>(all_racks.size()) : 1;

    std::vector<replica_assignment> out;
    int64_t shift = start.replica_shift;
    int64_t partition = std::max(0, first_partition);
    for (int32_t i = 0; i < count; ++i, ++partition) {
        if (partition > 0 && partition % static_cast<int64_t>(n) == 0) ++shift;
        size_t first = static_cast<size_t>((partition + start.start_index) % static_cast<int64_t>(n));
        replica_assignment a;
        a.id = partition_id(static_cast<int32_t>(partition));
        a.replicas.push_back(arranged[first].id);
        if (!racks) {
            for (int64_t j = 0; j < replication_factor - 1; ++j) a.replicas.push_back(arranged[follower_index(first, shift, j, n)].id);
        } else {
            std::set<std::string> racks_used{*arranged[first].rack};
            std::set<int32_t> used{arranged[first].id()};
            int64_t k = 0;
            for (int16_t j = 0; j < replication_factor - 1; ++j) {
                while (true) {
                    auto& b = arranged[follower_index(first, shift * num_racks, k++, n)];
                    bool rack_ok = !racks_used.count(*b.rack) || static_cast<int64_t>(racks_used.size()) == num_racks;
                    bool broker_ok = !used.count(b.id()) || used.size() == n;
                    if (rack_ok && broker_ok) {
                        a.replicas.push_back(b.id);
                        racks_used.insert(*b.rack);
                        used.insert(b.id());
                        break;
                    }
                }
            }
        }
        out.push_back(std::move(a));
    }
    return out;
}

} // namespace samsa::cluster
