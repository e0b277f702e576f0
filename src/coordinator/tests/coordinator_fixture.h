#pragma once

#include "coordinator/group_coordinator.h"
#include "protocol/error_code.h"

#include <gtest/gtest.h>

#include <map>

namespace samsa::coordinator::test {

/// Drives a group_coordinator under a manual clock and collects every completion, checking
/// that no request is ever answered twice.
struct coordinator_fixture : ::testing::Test {
    manual_clock clk{1'000'000};
    coordinator_config cfg = [] {
        coordinator_config c;
        c.initial_rebalance_delay_ms = 0;
        return c;
    }();
    std::unique_ptr<group_coordinator> gc = std::make_unique<group_coordinator>(cfg, clk);
    request_id next_id = 1;
    std::map<request_id, response> answered;
    std::vector<offsets_record> persisted;

    void reset_coordinator() { gc = std::make_unique<group_coordinator>(cfg, clk); }

    void absorb(outcome o)
    {
        for (auto& r : o.records) persisted.push_back(r);
        if (o.commit) gc->commit_persisted(*o.commit, true);
        for (auto& c : o.completions) {
            EXPECT_FALSE(answered.count(c.id)) << "request " << c.id << " answered twice";
            answered[c.id] = c.resp;
        }
    }
    void absorb(std::vector<outcome> os)
    {
        for (auto& o : os) absorb(std::move(o));
    }
    void advance(int64_t ms)
    {
        clk.advance(ms);
        absorb(gc->tick());
    }

    static bytes meta(const std::string& s) { return bytes(s.begin(), s.end()); }

    request_id join(const std::string& group, const std::string& member, int16_t version = 5,
                    std::optional<std::string> instance = std::nullopt, std::string meta_text = "m",
                    int32_t session = 10000, int32_t rebalance = 30000, std::vector<std::string> protocols = {"range"})
    {
        protocol::join_group_request r;
        r.group_id = group;
        r.member_id = member;
        r.group_instance_id = instance;
        r.session_timeout_ms = session;
        r.rebalance_timeout_ms = rebalance;
        r.protocol_type = "consumer";
        for (auto& p : protocols) r.protocols.push_back({p, meta(meta_text)});
        auto id = next_id++;
        absorb(gc->join_group(id, r, version, {"client", "/127.0.0.1"}));
        return id;
    }

    /// Join at v4+: MEMBER_ID_REQUIRED first, then the real join with the given id.
    request_id join_new(const std::string& group, std::string meta_text = "m", int32_t session = 10000)
    {
        auto first = join(group, "", 5, std::nullopt, meta_text, session);
        auto r = jr(first);
        EXPECT_EQ(r.error_code, E(protocol::error_code::member_id_required));
        return join(group, r.member_id, 5, std::nullopt, meta_text, session);
    }

    request_id sync(const std::string& group, const std::string& member, int32_t generation,
                    std::vector<std::pair<std::string, std::string>> assignments = {})
    {
        protocol::sync_group_request r;
        r.group_id = group;
        r.member_id = member;
        r.generation_id = generation;
        for (auto& [m, a] : assignments) r.assignments.push_back({m, meta(a)});
        auto id = next_id++;
        absorb(gc->sync_group(id, r, 3));
        return id;
    }

    int16_t heartbeat(const std::string& group, const std::string& member, int32_t generation,
                      std::optional<std::string> instance = std::nullopt)
    {
        protocol::heartbeat_request r{group, generation, member, instance};
        auto id = next_id++;
        absorb(gc->heartbeat(id, r, 3));
        return std::get<protocol::heartbeat_response>(answered.at(id)).error_code;
    }

    protocol::leave_group_response leave(const std::string& group, const std::string& member, int16_t version = 3,
                                         std::optional<std::string> instance = std::nullopt)
    {
        protocol::leave_group_request r;
        r.group_id = group;
        if (version < 3) r.member_id = member;
        else r.members.push_back({member, instance, std::nullopt});
        auto id = next_id++;
        absorb(gc->leave_group(id, r, version));
        return std::get<protocol::leave_group_response>(answered.at(id));
    }

    bool done(request_id id) const { return answered.count(id) > 0; }
    protocol::join_group_response jr(request_id id) { return std::get<protocol::join_group_response>(answered.at(id)); }
    protocol::sync_group_response sr(request_id id) { return std::get<protocol::sync_group_response>(answered.at(id)); }
    static int16_t E(protocol::error_code e) { return static_cast<int16_t>(e); }
    std::string state(const std::string& g) const
    {
        auto* grp = gc->find(g);
        return grp ? to_string(grp->state) : "none";
    }
};

} // namespace samsa::coordinator::test
