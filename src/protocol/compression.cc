#include "protocol/compression.h"

namespace samsa::protocol {

result<bytes> compress(compression_type codec, bytes_view in)
{
    if (codec == compression_type::none) return bytes(in.begin(), in.end());
    return make_error_code(batch_errc::unsupported_compression);
}

result<bytes> decompress(compression_type codec, bytes_view in, size_t max_output)
{
    if (codec == compression_type::none) {
        if (in.size() > max_output) return make_error_code(batch_errc::decompressed_too_large);
        return bytes(in.begin(), in.end());
    }
    return make_error_code(batch_errc::unsupported_compression);
}

} // namespace samsa::protocol
