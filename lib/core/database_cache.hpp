// limits.database_cache (docs/man/h2rd.yaml.5): SQLite's memory budget in one process, shared by the
// config that reads it and the store that applies it (store/sqlite/sqlite_store.hpp).
#pragma once

#include <cstdint>

namespace h2r {

inline constexpr std::uint64_t k_default_database_cache = 16ull << 20;
inline constexpr std::uint64_t k_min_database_cache = 1ull << 20;
inline constexpr std::uint64_t k_max_database_cache = 16ull << 30;

} // namespace h2r
