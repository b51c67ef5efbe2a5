// h2rd: argv → command. Wiring only; the work happens in lib/.
#include "h2rd/cli/args.hpp"
#include "h2rd/cli/command_table.hpp"
#include "h2rd/cli/commands.hpp"
#include "h2rd/cli/context.hpp"
#include "config/config.hpp"

#include <sys/prctl.h>

#include <csignal>
#include <optional>
#include <iostream>

int main(int argc, char** argv) {
  using namespace h2r::cli;
  // A peer that closes a socket h2rd is writing (Zoom refusing an oversized header, a webhook, a console
  // client) fails that one call; SIGPIPE must never end the process (a crash loop under systemd).
  std::signal(SIGPIPE, SIG_IGN);
  // Memory holds client secrets, tokens and the AES key: no core dump of it, and no ptrace attach or
  // /proc/PID/mem read by the same user's other processes (LimitCORE=0 in systemd/h2rd.service too).
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  std::vector<std::string> words(argv + 1, argv + argc);
  std::string config_flag;
  int config_flags = 0;
  // -c/--config anywhere before `--`: at the front (`h2rd -c F status`) or among the command's options
  // (`h2rd status -c F`). A value of the command's own options is skipped (`--reason -c` is a reason).
  const auto names_config = [](const std::string& w) {
    return w == "-c" || w == "--config" || w.rfind("--config=", 0) == 0;
  };
  const auto take_config = [&](std::vector<std::string>& ws, std::size_t& i) -> std::optional<int> {
    const std::string& w = ws[i];
    if (!names_config(w)) {
      ++i;
      return std::nullopt;
    }
    if (w == "-c" || w == "--config") {
      if (i + 1 >= ws.size()) {
        print_error("option " + w + " needs a value");
        return k_exit_usage;
      }
      config_flag = ws[i + 1];
      ws.erase(ws.begin() + static_cast<long>(i), ws.begin() + static_cast<long>(i) + 2);
    } else {
      config_flag = w.substr(9);
      ws.erase(ws.begin() + static_cast<long>(i));
    }
    if (++config_flags > 1) {
      print_error("the config file is given twice (-c/--config)");
      return k_exit_usage;
    }
    return std::nullopt;
  };
  std::size_t i = 0;
  while (i < words.size()) {
    const std::string& w = words[i];
    if (w == "-h" || w == "--help" || w == "help") {
      print_top_help(std::cout);
      return k_exit_ok;
    }
    if (w == "--version") return cmd_version({});
    if (!names_config(w)) break;
    if (auto failed = take_config(words, i)) return *failed;
  }
  if (i >= words.size()) {
    print_top_help(std::cerr);
    return k_exit_usage;
  }
  const std::string command = words[i];
  Words rest(words.begin() + static_cast<long>(i) + 1, words.end());
  {
    const CommandSpec* spec = nullptr;
    if (!rest.empty() && has_subcommands(command)) spec = find_command(command + " " + rest[0]);
    if (spec == nullptr) spec = find_command(command);
    for (std::size_t j = 0; j < rest.size() && rest[j] != "--";) {
      bool takes_value = false;
      if (spec != nullptr)
        for (const auto& option : spec->options) takes_value = takes_value || (option.takes_value() && option.name == rest[j]);
      if (takes_value) {
        j += 2;
        continue;
      }
      if (auto failed = take_config(rest, j)) return *failed;
    }
  }
  const std::string config_path = h2r::default_config_path(config_flag);
  if (command == "run") return cmd_run(config_path, rest);
  if (command == "check") return cmd_check(config_path, rest);
  if (command == "connection") return cmd_connection(config_path, rest);
  if (command == "plan") return cmd_plan(config_path, rest);
  if (command == "events") return cmd_events(config_path, rest);
  if (command == "reconcile") return cmd_reconcile(config_path, rest);
  if (command == "resync") return cmd_resync(config_path, rest);
  if (command == "provision") return cmd_provision(config_path, rest);
  if (command == "status") return cmd_status(config_path, rest);
  if (command == "console") return cmd_console(config_path, rest);
  if (command == "migrate") return cmd_migrate(config_path, rest);
  if (command == "version") return cmd_version(rest);
  print_error("unknown command '" + command + "' (see h2rd --help)");
  return k_exit_usage;
}
