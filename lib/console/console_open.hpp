// What `h2rd run` needs to serve the console: its token file (created when missing), its own store
// handle on the database (its actor "console:<token>" never mixes with the daemon's "h2rd") and the
// Console itself.
#pragma once

#include "console/console_server.hpp"

#include <memory>

namespace h2r {

struct ConsoleHandle {
  std::unique_ptr<Store> store;       // declared first: destroyed after the console
  std::unique_ptr<Console> console;
};

// Errors name the token file or the database.
Result<ConsoleHandle> open_console(const Config& config, const Clock& clock);

} // namespace h2r
