#pragma once

#include <boost/system/result.hpp>

#include <system_error>

namespace samsa {

/// Expected internal failures travel as `result<T>`: a value or a std::error_code from a
/// module's own `errc` category. Kafka-visible outcomes use protocol::error_code instead.
template<typename T>
using result = boost::system::result<T, std::error_code>;

/// The success value of `result<void>`.
inline constexpr boost::system::in_place_value_t ok_v{};
inline result<void> ok() { return {}; }

/// An error on its way out of a function returning any `result<T>`; unambiguous even for
/// result<bool> (a std::error_code converts to bool).
struct failure {
    std::error_code ec;
    template<typename T>
    operator result<T>() const
    {
        return result<T>(boost::system::in_place_error, ec);
    }
};
inline failure fail(std::error_code ec) { return failure{ec}; }

} // namespace samsa

/// Propagates the error of a `result` expression out of the enclosing function.
#define SAMSA_TRY(expr)                                                                            \
    do {                                                                                           \
        if (auto _samsa_r = (expr); !_samsa_r) return ::samsa::failure{_samsa_r.error()};                            \
    } while (0)

#define SAMSA_CONCAT_IMPL(a, b) a##b
#define SAMSA_CONCAT(a, b) SAMSA_CONCAT_IMPL(a, b)

/// `SAMSA_TRY_ASSIGN(auto x, expr);` binds the value of `expr` or returns its error. It expands
/// to several statements: inside an `if`, use braces.
#define SAMSA_TRY_ASSIGN(decl, expr) SAMSA_TRY_ASSIGN_IMPL(SAMSA_CONCAT(_samsa_r_, __LINE__), decl, expr)
#define SAMSA_TRY_ASSIGN_IMPL(tmp, decl, expr)                                                     \
    auto tmp = (expr);                                                                             \
    if (!tmp) return ::samsa::failure{tmp.error()};                                                \
    decl = std::move(*tmp)
