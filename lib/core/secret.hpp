// Secret: a value that must never reach a log, an error text, --json output or argv
// (docs/style.md "Never leak a secret"). Formatting it, by fmt or iostream, prints "***".
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>

namespace h2r {

class Secret {
public:
  Secret() = default;
  explicit Secret(std::string value) : m_value(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret&) = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret();

  // The only way to the clear value: greppable, so every use can be reviewed.
  const std::string& reveal() const { return m_value; }
  bool empty() const { return m_value.empty(); }
  bool operator==(const Secret& other) const = default;

  static constexpr const char* k_redacted = "***";

private:
  std::string m_value;
};

inline std::ostream& operator<<(std::ostream& out, const Secret&) { return out << Secret::k_redacted; }

} // namespace h2r

template <>
struct fmt::formatter<h2r::Secret> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const h2r::Secret&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(h2r::Secret::k_redacted, ctx);
  }
};
