#include "hr/report_name.hpp"

#include "core/text.hpp"

namespace h2r::hr_detail {

std::string fitted_name(std::string_view name, std::string_view suffix) {
  if (name.size() + suffix.size() <= k_max_name_bytes) return std::string(name) + std::string(suffix);
  constexpr std::size_t k_hash_chars = 16;
  const std::string tag = "~" + sha256_hex(name).substr(0, k_hash_chars);
  std::size_t keep = k_max_name_bytes - suffix.size() - tag.size();
  // Never cut inside a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (keep > 0 && keep < name.size() && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;
  return std::string(name.substr(0, keep)) + tag + std::string(suffix);
}

} // namespace h2r::hr_detail
