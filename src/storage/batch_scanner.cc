#include "storage/batch_scanner.h"

#include "bytes/endian.h"
#include "storage/errc.h"

namespace samsa::storage {

namespace L = protocol::batch_layout;
using protocol::batch_errc;

batch_scanner::batch_scanner(file_ptr f, uint64_t start, uint64_t end, bool verify_crc, size_t chunk_bytes)
  : _file(std::move(f)), _pos(start), _end(end), _verify(verify_crc), _chunk(chunk_bytes)
{}

bool batch_scanner::fill(uint64_t pos, size_t n)
{
    if (pos >= _buf_pos && pos + n <= _buf_pos + _buf_len) return true;
    if (pos + n > _end) return false;
    size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, _chunk), _end - pos));
    if (_buf.size() < want) _buf.resize(want);
    auto got = _file->pread(pos, mutable_bytes_view(_buf.data(), want));
    if (!got) {
        _err = got.error();
        return false;
    }
    _buf_pos = pos;
    _buf_len = *got;
    return *got >= n;
}

std::optional<scanned_batch> batch_scanner::next()
{
    if (_err || _pos >= _end) return std::nullopt;
    if (!fill(_pos, L::log_overhead + 5)) {
        if (!_err) _err = make_error_code(batch_errc::truncated);
        return std::nullopt;
    }
    const uint8_t* p = _buf.data() + (_pos - _buf_pos);
    int32_t len = be::load<int32_t>(p + L::batch_length);
    if (len < static_cast<int32_t>(L::header_size - L::log_overhead)) {
        _err = make_error_code(batch_errc::invalid_length);
        return std::nullopt;
    }
    size_t total = L::log_overhead + static_cast<size_t>(len);
    if (!fill(_pos, total)) {
        if (!_err) _err = make_error_code(batch_errc::truncated);
        return std::nullopt;
    }
    bytes_view view(_buf.data() + (_pos - _buf_pos), total);
    auto h = _verify ? protocol::validate_batch(view) : protocol::read_header(view);
    if (h && !_verify && h->magic != 2) h = make_error_code(batch_errc::unsupported_magic);
    if (!h) {
        _err = h.error();
        return std::nullopt;
    }
    scanned_batch out{_pos, *h, view};
    _pos += total;
    return out;
}

} // namespace samsa::storage
