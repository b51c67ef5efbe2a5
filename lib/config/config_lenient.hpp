// A lenient read of h2rd.yaml, for `h2rd status` beside a daemon whose last reload was refused.
#pragma once

#include "config/config.hpp"

#include <optional>

namespace h2r {

// A file with errors still gives a Config: its valid keys read and the invalid ones at their
// defaults; `problems` gets every diagnostic. nullopt when the file cannot be read or is not YAML.
std::optional<Config> load_config_lenient(const std::string& path, Diagnostics& problems);

} // namespace h2r
