#include "console/console_open.hpp"

#include "ops/status_server.hpp"
#include "store/open_store.hpp"

#include <unistd.h>

namespace h2r {

Result<ConsoleHandle> open_console(const Config& config, const Clock& clock) {
  auto tokens = load_console_tokens(config.console.tokens, true);
  if (!tokens) return unexpected(std::move(tokens).error());
  auto store = open_store(config.database, config.database_password_file, config.database_cache);
  if (!store) return unexpected(std::move(store).error());
  std::vector<std::string> hosts;
  // A `listen` on a named address (listen_allow_remote) is reached by that name too; the wildcard
  // addresses name no host, the machine's own name does.
  if (auto address = parse_listen(config.listen); address && address->host != "0.0.0.0" && address->host != "::")
    hosts.push_back(address->host.find(':') != std::string::npos ? "[" + address->host + "]" : address->host);
  if (config.listen_allow_remote) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') hosts.push_back(name);
  }
  ConsoleHandle handle;
  handle.store = std::move(*store);
  handle.console = std::make_unique<Console>(*handle.store, config, std::move(*tokens), clock, std::move(hosts));
  handle.console->watch_token_file(config.console.tokens);
  return handle;
}

} // namespace h2r
