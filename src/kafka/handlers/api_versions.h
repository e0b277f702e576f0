#pragma once

#include "protocol/wire.h"

namespace samsa::kafka {

/// The ApiVersions v0 body answering an unsupported ApiVersions version: UNSUPPORTED_VERSION
/// with the served ranges, so the client can retry with a version we serve.
void encode_unsupported_api_versions(protocol::writer& out);

} // namespace samsa::kafka
