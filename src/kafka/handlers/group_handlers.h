#pragma once

#include "kafka/handler.h"

namespace samsa::kafka {

// The consumer-group APIs, served by group_service (kafka/group_service.h); one file each.
boost::asio::awaitable<bool> handle_find_coordinator(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_join_group(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_sync_group(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_heartbeat(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_leave_group(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_offset_commit(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_offset_fetch(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_list_groups(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_describe_groups(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_delete_groups(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_offset_delete(request_context& ctx, protocol::writer& out);


} // namespace samsa::kafka
