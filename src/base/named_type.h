#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <type_traits>

namespace samsa {

/// A value of type T that cannot be mixed up with another named_type over the same T (as
/// Redpanda's named_type). Integral named types get the arithmetic an offset needs.
template<typename T, typename Tag>
class named_type {
public:
    using type = T;

    constexpr named_type() = default;
    constexpr explicit named_type(T v) : _value(v) {}

    constexpr T operator()() const { return _value; }
    constexpr T value() const { return _value; }
    constexpr explicit operator T() const { return _value; }

    constexpr auto operator<=>(const named_type&) const = default;

    static constexpr named_type min() requires std::is_arithmetic_v<T>
    {
        return named_type(std::numeric_limits<T>::min());
    }
    static constexpr named_type max() requires std::is_arithmetic_v<T>
    {
        return named_type(std::numeric_limits<T>::max());
    }

    constexpr named_type& operator++() requires std::is_integral_v<T>
    {
        ++_value;
        return *this;
    }
    constexpr named_type operator++(int) requires std::is_integral_v<T>
    {
        auto old = *this;
        ++_value;
        return old;
    }
    constexpr named_type& operator+=(T d) requires std::is_integral_v<T>
    {
        _value += d;
        return *this;
    }
    constexpr named_type& operator-=(T d) requires std::is_integral_v<T>
    {
        _value -= d;
        return *this;
    }
    friend constexpr named_type operator+(named_type a, T d) requires std::is_integral_v<T>
    {
        return named_type(a._value + d);
    }
    friend constexpr named_type operator-(named_type a, T d) requires std::is_integral_v<T>
    {
        return named_type(a._value - d);
    }
    /// The distance between two values of the same named type is a plain T.
    friend constexpr T operator-(named_type a, named_type b) requires std::is_integral_v<T>
    {
        return a._value - b._value;
    }

    friend std::ostream& operator<<(std::ostream& os, const named_type& v) { return os << v._value; }

private:
    T _value{};
};

} // namespace samsa

template<typename T, typename Tag>
struct std::hash<samsa::named_type<T, Tag>> {
    size_t operator()(const samsa::named_type<T, Tag>& v) const noexcept { return std::hash<T>{}(v()); }
};

template<typename T, typename Tag>
struct fmt::formatter<samsa::named_type<T, Tag>> : fmt::formatter<T> {
    auto format(const samsa::named_type<T, Tag>& v, format_context& ctx) const
    {
        return fmt::formatter<T>::format(v(), ctx);
    }
};
