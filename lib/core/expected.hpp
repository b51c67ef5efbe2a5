// Expected<T, E>: a value or an error, for boundaries where failure is ordinary (I/O, HTTP, parsing).
// A small stand-in for C++23 std::expected, which GCC 12's libstdc++ does not ship.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace h2r {

template <class E>
class Unexpected {
public:
  explicit Unexpected(E error) : m_error(std::move(error)) {}
  E& error() & { return m_error; }
  E&& error() && { return std::move(m_error); }

private:
  E m_error;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

struct Error;

template <class T, class E = Error>
class [[nodiscard]] Expected {
public:
  using value_type = T;
  using error_type = E;

  Expected()
    requires std::is_default_constructible_v<T>
    : m_state(std::in_place_index<0>) {}
  template <class U = T>
    requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::decay_t<U>, Expected>) &&
             (!std::is_same_v<std::decay_t<U>, Unexpected<E>>)
  Expected(U&& value) : m_state(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  Expected(Unexpected<G> error) : m_state(std::in_place_index<1>, std::move(error).error()) {}

  bool has_value() const { return m_state.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(m_state); }
  const T& value() const& { assert(has_value()); return std::get<0>(m_state); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(m_state)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { assert(!has_value()); return std::get<1>(m_state); }
  const E& error() const& { assert(!has_value()); return std::get<1>(m_state); }
  E&& error() && { assert(!has_value()); return std::get<1>(std::move(m_state)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

private:
  std::variant<T, E> m_state;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
public:
  using value_type = void;
  using error_type = E;

  Expected() = default;
  template <class G>
  Expected(Unexpected<G> error) : m_error(std::move(error).error()), m_failed(true) {}

  bool has_value() const { return !m_failed; }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }
  E& error() & { assert(m_failed); return m_error; }
  const E& error() const& { assert(m_failed); return m_error; }
  E&& error() && { assert(m_failed); return std::move(m_error); }

private:
  E m_error{};
  bool m_failed = false;
};

} // namespace h2r

// TRY(expr): evaluate an Expected; on error return it from the enclosing function, else yield the value.
#define H2R_TRY(expr)                                                                              \
  __extension__({                                                                                               \
    auto h2r_try_result_ = (expr);                                                                 \
    if (!h2r_try_result_) return ::h2r::unexpected(std::move(h2r_try_result_).error());            \
    std::move(h2r_try_result_).value();                                                            \
  })
