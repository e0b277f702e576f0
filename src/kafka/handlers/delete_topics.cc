// DeleteTopics: removes topics by name (v0-v5) or by name or id (v6): the topic is marked for
// deletion at once, its logs are removed in steps, and the answer waits (up to timeout_ms) until
// the deletion is complete.
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/delete_topics.h"

namespace samsa::kafka {

namespace {

using protocol::error_code;
using topic_result = protocol::delete_topics_response::deletable_topic_result;

void set_error(topic_result& out, error_code ec, std::string msg)
{
    out.error_code = code(ec);
    if (!msg.empty()) out.error_message = std::move(msg);
}

boost::asio::awaitable<topic_result> delete_by_name(request_context& ctx, std::string name)
{
    topic_result out;
    out.name = name;
    if (auto* t = ctx.broker.topics.find(name)) out.topic_id = t->id;
    auto r = co_await ctx.broker.topics.controller().delete_topic(name);
    if (!r) set_error(out, to_kafka_error(r.error().code), r.error().message);
    co_return out;
}

/// v6: each entry names the topic or gives its id, not both.
boost::asio::awaitable<topic_result> delete_entry(request_context& ctx,
                                                  const protocol::delete_topics_request::delete_topic_state& s)
{
    if (s.name && !s.topic_id.is_zero()) {
        topic_result out;
        out.name = s.name;
        out.topic_id = s.topic_id;
        set_error(out, error_code::invalid_request, "You may not specify both topic name and topic id.");
        co_return out;
    }
    if (s.name) co_return co_await delete_by_name(ctx, *s.name);
    auto* t = ctx.broker.topics.find(s.topic_id);
    if (!t) {
        topic_result out;
        out.name = std::nullopt;
        out.topic_id = s.topic_id;
        set_error(out, error_code::unknown_topic_id, "This server does not host this topic ID.");
        co_return out;
    }
    std::string name = t->name; // t dies with the topic
    co_return co_await delete_by_name(ctx, name);
}

} // namespace

boost::asio::awaitable<bool> handle_delete_topics(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::delete_topics_request>(ctx);
    protocol::delete_topics_response resp;
    if (ctx.version() >= 6) {
        for (auto& s : req.topics) resp.responses.push_back(co_await delete_entry(ctx, s));
    } else {
        for (auto& name : req.topic_names) resp.responses.push_back(co_await delete_by_name(ctx, name));
    }
    std::vector<std::string> deleted;
    for (auto& r : resp.responses) {
        if (r.error_code == 0 && r.name) deleted.push_back(*r.name);
    }
    if (!deleted.empty() && req.timeout_ms > 0 && !co_await wait_settled(ctx.broker, deleted, req.timeout_ms)) {
        for (auto& r : resp.responses) {
            if (r.error_code == 0 && r.name && !ctx.broker.topics.settled(*r.name)) {
                set_error(r, error_code::request_timed_out, "Timed out waiting for the deletion to complete; it continues.");
            }
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
