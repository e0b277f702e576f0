#pragma once

#include "protocol/api_key.h"
#include "protocol/wire.h"

#include <cstdint>
#include <optional>
#include <string>

namespace samsa::protocol {

/// The request header, hand-written (not generated) because its version is a function of the
/// API key and version it carries.
///
///   v0: api_key int16, api_version int16, correlation_id int32
///   v1: v0 + client_id nullable string (int16 length, even in v2)
///   v2: v1 + tagged fields (none known; unknown ones are skipped)
struct request_header {
    api_key key{api_key::produce};
    int16_t version{0};
    int32_t correlation_id{0};
    std::optional<std::string> client_id;

    void encode(writer& w, int16_t header_version) const;
    /// Encodes in request_header_version(key, version).
    void encode(writer& w) const { encode(w, header_version()); }
    /// Reads api key and version, then the rest in the header version they imply.
    void decode(reader& r);
    void decode(reader& r, int16_t header_version);

    int16_t header_version() const;
    bool operator==(const request_header&) const = default;
};

/// The response header: v0 correlation_id int32; v1 + tagged fields (none known).
struct response_header {
    int32_t correlation_id{0};

    void encode(writer& w, int16_t header_version) const;
    void decode(reader& r, int16_t header_version);
    bool operator==(const response_header&) const = default;
};

/// Header version of a request: 2 for flexible API versions, 1 otherwise, and 0 for
/// ControlledShutdown v0 (a Kafka quirk). Unknown API keys get 1.
int16_t request_header_version(api_key key, int16_t api_version);

/// Header version of a response: 1 for flexible API versions, 0 otherwise. ApiVersions
/// responses always use v0, so that a client can parse the answer to a version it sent
/// before knowing what the broker supports.
int16_t response_header_version(api_key key, int16_t api_version);

} // namespace samsa::protocol
