#include "protocol/headers.h"

#include "base/assert.h"

namespace samsa::protocol {

int16_t request_header_version(api_key key, int16_t api_version)
{
    if (key == api_key::controlled_shutdown && api_version == 0) return 0;
    return is_flexible(key, api_version) ? 2 : 1;
}

int16_t response_header_version(api_key key, int16_t api_version)
{
    if (key == api_key::api_versions) return 0;
    return is_flexible(key, api_version) ? 1 : 0;
}

int16_t request_header::header_version() const { return request_header_version(key, version); }

void request_header::encode(writer& w, int16_t header_version) const
{
    SAMSA_ASSERT(header_version >= 0 && header_version <= 2, "bad request header version {}",
                 header_version);
    w.write_int16(static_cast<int16_t>(key));
    w.write_int16(version);
    w.write_int32(correlation_id);
    if (header_version >= 1) w.write_nullable_string(client_id, false);
    if (header_version >= 2) w.write_uvarint(0);
}

namespace {

void read_fixed_part(request_header& h, reader& r)
{
    h.key = static_cast<api_key>(r.read_int16());
    h.version = r.read_int16();
    h.correlation_id = r.read_int32();
}

void read_versioned_part(request_header& h, reader& r, int16_t header_version)
{
    h.client_id.reset();
    if (header_version >= 1) h.client_id = r.read_nullable_string(false);
    if (header_version >= 2) r.skip_tagged_fields();
}

} // namespace

void request_header::decode(reader& r)
{
    read_fixed_part(*this, r);
    read_versioned_part(*this, r, header_version());
}

void request_header::decode(reader& r, int16_t header_version)
{
    read_fixed_part(*this, r);
    read_versioned_part(*this, r, header_version);
}

void response_header::encode(writer& w, int16_t header_version) const
{
    w.write_int32(correlation_id);
    if (header_version >= 1) w.write_uvarint(0);
}

void response_header::decode(reader& r, int16_t header_version)
{
    correlation_id = r.read_int32();
    if (header_version >= 1) r.skip_tagged_fields();
}

} // namespace samsa::protocol
