#include "h2rd/cli/command_table.hpp"

#include <algorithm>
#include <ostream>
#include <string>

namespace h2r::cli {

namespace {

// Shared option lines: a command lists the ones it accepts.
constexpr OptionSpec k_json{"--json", "", "print the result as JSON (absent values are null)"};
constexpr OptionSpec k_account_id{"--account-id", "ID", "the Zoom account id of the Server-to-Server OAuth app"};
constexpr OptionSpec k_client_id{"--client-id", "ID", "the app's client id"};
constexpr OptionSpec k_secret_file{"--client-secret-file", "FILE", "read the client secret from FILE (one line)"};
constexpr OptionSpec k_secret_stdin{"--client-secret-stdin", "", "read the client secret from standard input (one line)"};
constexpr OptionSpec k_oauth_url{"--oauth-url", "URL", "token endpoint (default https://zoom.us/oauth/token)"};
constexpr OptionSpec k_api_url{"--api-url", "URL", "SCIM2 base URL (default https://api.zoom.us/scim2)"};
constexpr OptionSpec k_rate_limit{"--rate-limit", "N", "requests per second this connection may make (0.1 to 10000)"};
constexpr OptionSpec k_allow_insecure{"--allow-insecure-http", "",
                                      "allow http:// URLs to a host that is not loopback (the secret travels in clear)"};
constexpr OptionSpec k_deny_insecure{"--deny-insecure-http", "",
                                     "undo --allow-insecure-http: refuse http:// URLs to a host that is not loopback"};

} // namespace

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = {
      {"run", "", "watch the inbox and push changes to Zoom (the daemon)",
       {{"--once", "", "ingest and process what is due now, then exit: 0 when no event failed, 1 when one did"},
        {"--max-wait", "DURATION", "with --once: wait for retries and cool-downs at most this long in all (default 5m, "
                                   "at most 24h), then leave them pending"}}},
      {"check", "", "validate the config and the rules file (exit 78 on problems)",
       {{"--strict", "", "also exit 78 on warnings and on what could not be checked (no database yet)"}, k_json}},
      {"connection add", "NAME", "add a Zoom Server-to-Server OAuth connection",
       {k_account_id, k_client_id, k_secret_file, k_secret_stdin, k_oauth_url, k_api_url, k_rate_limit, k_allow_insecure}},
      {"connection update", "NAME", "change a connection; only the options given change; its health is reset",
       {k_account_id, k_client_id, k_secret_file, k_secret_stdin, k_oauth_url, k_api_url, k_rate_limit, k_allow_insecure,
        k_deny_insecure}},
      {"connection list", "", "every connection with its account, URL and health", {k_json}},
      {"connection show", "NAME", "one connection's settings and health (never the secret)", {k_json}},
      {"connection test", "NAME", "fetch a token and make one list call; says exactly what is wrong",
       {{"--groups", "", "also list the groups the rules can give in this connection that Zoom lacks (literal names, "
                         "and templated ones as rendered for the employees h2r knows); exit 1 when one is missing"},
        k_json}},
      {"connection remove", "NAME", "remove a connection and its links to Zoom users (Zoom is unchanged)", {}},
      {"plan", "FILE... | --rules NEW.yaml", "dry run: when each event would run, its role and targets, and the SCIM calls run would make",
       {{"--rules", "NEW.yaml", "instead: what this rules file would change at Zoom, per linked employee (old -> new), "
                                "with totals; these are the employees a reload then resyncs"},
        k_json}},
      {"resync", "", "queue a resync for every linked employee whose Zoom user the rules in force would change "
                     "(what the daemon does on a rules change unless rules.on_change is manual)",
       {k_json}},
      {"events list", "", "the event queue, newest first",
       {{"--state", "STATE", "only events in STATE: pending waiting held done skipped failed rejected"},
        {"--type", "TYPE", "only events of TYPE: hire update leave return terminate rehire resync"},
        {"--employee", "ID", "only events of this employee id"},
        {"--since", "DATE", "only events effective at or after DATE (YYYY-MM-DD, or a date-time with Z or an offset)"},
        {"--until", "DATE", "only events effective before DATE (a date alone: up to the end of that day)"},
        {"--file", "NAME", "only events from this source file (its name, with or without the folder)"},
        {"--limit", "N", "at most N events (default 1000)"},
        k_json}},
      {"events show", "ID", "one event as an audit record: summary, attribute changes, history (ID: number or HR event_id)",
       {{"--plan", "", "for an open event, also the calls it would make now and their attribute changes (the engine's dry "
                       "run, as `h2rd plan`: only lookups reach Zoom; reads the key file)"},
        k_json}},
      {"events retry", "ID | --failed | --pending",
       "queue a failed event again, or make one waiting to try again due now; the daemon runs it at its next cycle "
       "(ID: number or HR event_id)",
       {{"--failed", "", "every failed event"},
        {"--pending", "", "every pending event waiting out a backoff after a transient error (after an outage)"},
        {"--reason-matches", "TEXT", "with --failed or --pending: only those whose reason holds TEXT (case aside)"},
        {"--file", "NAME", "with --failed or --pending: only those from this source file"},
        {"--expect", "N", "with --failed or --pending: change nothing unless the selection is N events"}, k_json}},
      {"events approve", "ID | --all", "let a held event run (ID: number or HR event_id)",
       {{"--all", "", "every held event"}, {"--file", "NAME", "with --all: only those from this source file"},
        {"--expect", "N", "with --all: change nothing unless the selection is N events"}, k_json}},
      {"events reject", "ID | --file NAME", "reject a pending, waiting or held event for good (ID: number or HR event_id)",
       {{"--file", "NAME", "every pending, waiting or held event from this source file (a bad export)"},
        {"--expect", "N", "with --file: change nothing unless the selection is N events"},
        {"--reason", "TEXT", "why, kept in the event's history (at most 500 bytes)"}, k_json}},
      {"provision", "EMPLOYEE_ID", "what h2r would do for this employee now and why (the role each target matches, the "
                                   "condition that failed); only lookups reach Zoom",
       {{"--apply", "", "do it: queue an on-demand update the daemon runs at its next cycle, guard and supervision applied"},
        k_json}},
      {"reconcile", "", "compare Zoom's users with what the rules say; fix with --apply",
       {{"--connection", "NAME", "only this connection"}, {"--apply", "", "fix missing, attribute and active-state drift"},
        k_json}},
      {"status", "", "daemon, queue, connections, rules version, last cycle", {k_json}},
      {"console", "", "print the URL that opens the admin console with a token (a secret: do not share it)",
       {{"--name", "NAME", "the token with this name in the token file (default: the first reviewer)"}, k_json}},
      {"migrate", "", "copy this SQLite deployment into an empty PostgreSQL database (stop the daemon first)",
       {{"--to", "URL", "the PostgreSQL database: postgresql://USER@HOST:PORT/DB?sslmode=... (no password in it)"},
        {"--password-file", "FILE", "the database password, in a file only its owner can read (default: ~/.pgpass or $PGPASSFILE)"},
        k_json}},
      {"version", "", "version and build information", {k_json}},
  };
  return table;
}

const CommandSpec* find_command(std::string_view path) {
  for (const auto& spec : command_table())
    if (spec.path == path) return &spec;
  return nullptr;
}

bool has_subcommands(std::string_view group) {
  const std::string prefix = std::string(group) + " ";
  return std::any_of(command_table().begin(), command_table().end(),
                     [&](const CommandSpec& spec) { return spec.path.substr(0, prefix.size()) == prefix; });
}

namespace {

void print_synopsis(std::ostream& out, const CommandSpec& spec) {
  out << "h2rd [-c CONFIG] " << spec.path;
  if (!spec.operands.empty()) out << " " << spec.operands;
  if (!spec.options.empty()) out << " [options]";
}

void print_options(std::ostream& out, const CommandSpec& spec, std::string_view indent) {
  for (const auto& o : spec.options) {
    std::string left = std::string(o.name) + (o.takes_value() ? " " + std::string(o.placeholder) : "");
    out << indent << left;
    if (left.size() < 26) out << std::string(26 - left.size(), ' ');
    else out << "\n" << indent << std::string(26, ' ');
    out << o.help << "\n";
  }
}

} // namespace

void print_command_help(std::ostream& out, const CommandSpec& spec) {
  out << "usage: ";
  print_synopsis(out, spec);
  out << "\n\n" << spec.summary << "\n";
  out << "\noptions:\n";
  print_options(out, spec, "  ");
  out << "  --help                    print this help and exit\n";
}

void print_group_help(std::ostream& out, std::string_view group) {
  out << "usage: h2rd [-c CONFIG] " << group << " COMMAND [ARGS] [options]\n\ncommands:\n";
  const std::string prefix = std::string(group) + " ";
  for (const auto& spec : command_table()) {
    if (spec.path.substr(0, prefix.size()) != prefix) continue;
    out << "  ";
    print_synopsis(out, spec);
    out << "\n      " << spec.summary << "\n";
    print_options(out, spec, "      ");
  }
  out << "\n`h2rd " << group << " COMMAND --help` shows one command.\n";
}

void print_top_help(std::ostream& out) {
  out << "usage: h2rd [-c CONFIG] COMMAND [ARGS] [options]\n\ncommands:\n";
  std::string last_group;
  for (const auto& spec : command_table()) {
    const auto space = spec.path.find(' ');
    if (space == std::string_view::npos) {
      std::string left = std::string(spec.path) + (spec.operands.empty() ? "" : " " + std::string(spec.operands));
      out << "  " << left << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << spec.summary << "\n";
      continue;
    }
    const std::string group(spec.path.substr(0, space));
    if (group == last_group) continue;
    last_group = group;
    std::string subs;
    for (const auto& s : command_table())
      if (s.path.substr(0, group.size() + 1) == group + " ") subs += (subs.empty() ? "" : "|") + std::string(s.path.substr(group.size() + 1));
    out << "  " << group << " " << subs << " ...\n" << std::string(26, ' ') << "see `h2rd " << group << " --help`\n";
  }
  out << "\noptions:\n  -c, --config CONFIG       the config file (default $H2R_CONFIG, else /etc/h2r/h2rd.yaml); before\n"
         "                            the command or among its options\n"
         "  -h, --help                print this help; `h2rd COMMAND --help` shows a command's options\n"
         "      --version             the version (as `h2rd version`)\n";
}

} // namespace h2r::cli
