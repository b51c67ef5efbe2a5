// h2rd events list|show|retry|approve|reject
#include "h2rd/cli/commands.hpp"
#include "core/clock.hpp"
#include "core/time.hpp"
#include "h2rd/cli/context.hpp"
#include "h2rd/cli/events_view.hpp"
#include "engine/dry_run.hpp"
#include "views/event_actions.hpp"

#include <fmt/format.h>

#include <iomanip>
#include <iostream>

namespace h2r::cli {
namespace {

constexpr std::size_t k_max_filter_bytes = 256;
constexpr long long k_max_limit = 100000;

// The list filters from the options; nullopt after printing what is wrong.
std::optional<EventFilter> list_filter(const Args& args, const std::string& time_zone) {
  EventFilter filter;
  for (const char* name : {"--employee", "--file", "--type", "--state", "--since", "--until", "--limit"}) {
    auto v = args.value(name);
    if (v && (v->empty() || v->size() > k_max_filter_bytes)) {
      print_error(fmt::format("{}: give 1 to {} bytes", name, k_max_filter_bytes));
      return std::nullopt;
    }
  }
  if (auto s = args.value("--state")) {
    filter.state = parse_event_state(*s);
    if (!filter.state) {
      print_error("--state: '" + *s + "' is not one of pending waiting held done skipped failed rejected");
      return std::nullopt;
    }
  }
  if (auto t = args.value("--type")) {
    filter.type = parse_event_type(*t);
    if (!filter.type) {
      print_error("--type: '" + *t + "' is not one of hire update leave return terminate rehire resync");
      return std::nullopt;
    }
  }
  if (auto e = args.value("--employee")) filter.employee_id = *e;
  if (auto f = args.value("--file")) filter.source_file = *f;
  for (const char* name : {"--since", "--until"}) {
    auto v = args.value(name);
    if (!v) continue;
    auto at = parse_effective_date(*v, time_zone);
    if (!at) {
      print_error(fmt::format("{}: {} (YYYY-MM-DD in the config's time zone {}, or a date-time with Z or an offset)",
                              name, at.error().message, time_zone));
      return std::nullopt;
    }
    const bool date_only = v->find('T') == std::string::npos;
    if (std::string_view(name) == "--since") filter.effective_from_ms = to_unix_ms(*at);
    else filter.effective_before_ms = to_unix_ms(date_only ? minus_days_in_zone(*at, -1, time_zone) : *at);
  }
  if (auto l = args.value("--limit")) {
    char* end = nullptr;
    long long n = std::strtoll(l->c_str(), &end, 10);
    if (end == l->c_str() || *end != '\0' || n < 1 || n > k_max_limit) {
      print_error(fmt::format("--limit: '{}' is not a number from 1 to {}", *l, k_max_limit));
      return std::nullopt;
    }
    filter.limit = static_cast<int>(n);
  }
  return filter;
}

// `text` cut to `width` code points (with "…" when cut), padded to `width` + 2 columns: setw counts
// bytes, so a name in another script would otherwise push the next columns right.
std::string column_text(const std::string& text, std::size_t width) {
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (points == width) {
      out += "…";
      ++points;
      break;
    }
    out.append(text, i, len);
    ++points;
    i += len;
  }
  out.append(width + 2 - points, ' ');   // by code points: setw would pad by bytes
  return out;
}

int list(Store& store, const EventFilter& filter, bool json, long long now) {
  auto rows = store.list_events(filter);
  if (!rows) {
    print_error(rows.error().message);
    return k_exit_failed;
  }
  EmployeeNames names(store);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *rows) {
      out.push_back(event_json(e, false, now));
      out.back()["name"] = names.of(e);
    }
    print_json(out);
    return k_exit_ok;
  }
  std::size_t event_width = 5;
  for (const auto& e : *rows) event_width = std::max(event_width, std::min<std::size_t>(e.event_id.size(), 40));
  std::cout << std::left << std::setw(7) << "ID" << std::setw(static_cast<int>(event_width + 2)) << "EVENT"
            << std::setw(10) << "TYPE" << std::setw(12) << "EMPLOYEE" << std::setw(22) << "NAME" << std::setw(9) << "STATE" << std::setw(22)
            << "EFFECTIVE" << std::setw(22) << "DUE" << "REASON\n";
  for (const auto& e : *rows) {
    const std::string wait = wait_text(e, now);
    std::cout << std::left << std::setw(7) << e.id << std::setw(static_cast<int>(event_width + 2)) << e.event_id
              << std::setw(10) << to_string(e.type) << std::setw(12) << e.employee_id
              << column_text(names.of(e), 20) << std::setw(9) << to_string(e.state)
              << std::setw(22) << time_text(e.effective_at_ms) << std::setw(22)
              << (is_final(e.state) ? "-" : time_text(e.due_at_ms)) << (wait.empty() ? shown_reason(e.reason) : wait) << "\n";
  }
  return k_exit_ok;
}

// `events show ID --plan`: what the open event would do now, as `h2rd plan` and the console's Planned
// changes say it (DryRun::plan_stored: only lookups reach Zoom, so the key file is read for a token).
// nullopt with `code` set when it cannot be planned.
std::optional<nlohmann::json> planned_now(const std::string& config_path, const EventRow& e, int& code) {
  if (is_final(e.state)) {
    print_error(fmt::format("event {} is {}: only an open event (pending, waiting, held) has a plan", e.id, to_string(e.state)));
    code = k_exit_failed;
    return std::nullopt;
  }
  auto engine = open_engine_context(config_path, code);
  if (!engine) return std::nullopt;
  const SystemTime now = SystemClock::instance().now();
  auto planned = DryRun(*engine->ctx.store, *engine->connections, *engine->rules, now).plan_stored(e.id);
  if (!planned || !*planned) {
    print_error(!planned ? "cannot read the stored state: " + planned.error().message
                         : fmt::format("event {} is no longer open", e.id));
    code = k_exit_failed;
    return std::nullopt;
  }
  return planned_json(**planned, to_unix_ms(now), true);
}

int show(Store& store, const EventRow& e, bool json, long long now, const std::optional<nlohmann::json>& plan) {
  if (json) {
    auto j = event_detail_json(store, e, now);
    if (!j) {
      print_error(j.error().message);
      return k_exit_failed;
    }
    if (plan) (*j)["plan"] = *plan;
    print_json(*j);
    return k_exit_ok;
  }
  auto history = store.event_history(e.id);
  auto links = links_of(store, e.employee_id);
  if (!history || !links) {
    print_error(!history ? history.error().message : links.error().message);
    return k_exit_failed;
  }
  print_audit_record(std::cout, e, *history, now, EmployeeNames(store).of(e), *links);
  if (plan) {
    std::cout << "\nif it ran now (the engine's dry run; only lookups reached Zoom):\n";
    print_planned_calls(std::cout, *plan);
  }
  return k_exit_ok;
}

// The selection of a bulk action from its options, or nullopt after printing what is wrong.
std::optional<EventSelection> bulk_selection(const Args& args) {
  EventSelection selection;
  selection.all = true;
  if (auto f = args.value("--file")) selection.source_file = *f;
  if (auto m = args.value("--reason-matches")) selection.reason_contains = *m;
  selection.waiting_retries = args.has("--pending");
  for (const std::string* text : {&selection.source_file, &selection.reason_contains})
    if (text->size() > k_max_selection_text || text->find_first_of("\r\n") != std::string::npos) {
      print_error(fmt::format("--file and --reason-matches: one line of at most {} bytes", k_max_selection_text));
      return std::nullopt;
    }
  if (auto e = args.value("--expect")) {
    char* end = nullptr;
    const long long n = std::strtoll(e->c_str(), &end, 10);
    if (e->empty() || *end != '\0' || n < 0 || n > k_max_selected_events) {
      print_error(fmt::format("--expect: '{}' is not a number from 0 to {}", *e, k_max_selected_events));
      return std::nullopt;
    }
    selection.expect_count = n;
  }
  return selection;
}

} // namespace

int cmd_events(const std::string& config_path, const Words& words) {
  int parse_code = k_exit_ok;
  auto args = parse_command("events", words, parse_code);
  if (!args) return parse_code;
  const std::string sub = args->positional[0];
  const bool json = args->has("--json");
  // A bulk action: every held (approve --all), every failed (retry --failed), or the open events of a
  // file (reject --file); --file, --reason-matches and --expect narrow and check it.
  const bool bulk = args->has("--failed") || args->has("--pending") || args->has("--all") ||
                    (sub == "reject" && args->value("--file"));
  const bool narrowing = args->value("--expect") || args->value("--reason-matches") || (sub != "list" && args->value("--file"));
  if ((sub == "list" ? args->positional.size() != 1 : args->positional.size() != (bulk ? 1u : 2u)) ||
      (sub != "list" && !bulk && narrowing) || (args->has("--failed") && args->has("--pending"))) {
    print_error(fmt::format("usage: h2rd events {}{} (see `h2rd events {} --help`)", sub,
                            sub == "list"      ? " [options]"
                            : sub == "retry"   ? " ID | --failed | --pending [--reason-matches TEXT] [--file NAME] [--expect N]"
                            : sub == "approve" ? " ID | --all [--file NAME] [--expect N]"
                            : sub == "reject"  ? " ID | --file NAME [--expect N]"
                                               : " ID",
                            sub));
    return k_exit_usage;
  }
  std::string reason = "rejected by an admin";
  if (auto r = args->value("--reason")) {
    std::string error;
    auto cleaned = clean_reason(*r, error);
    if (!cleaned) {
      print_error(error);
      return k_exit_usage;
    }
    reason = *cleaned;
  }
  std::optional<EventSelection> selection;
  if (bulk && sub != "list") {
    selection = bulk_selection(*args);
    if (!selection) return k_exit_usage;
  }

  int code = k_exit_ok;
  auto ctx = open_context_without_key(config_path, code);
  if (!ctx) return code;
  Store& store = *ctx->store;
  store.set_actor(cli_actor());
  const long long now = to_unix_ms(SystemClock::instance().now());

  if (sub == "list") {
    auto filter = list_filter(*args, ctx->config.timezone);
    return filter ? list(store, *filter, json, now) : k_exit_usage;
  }
  if (!bulk) {
    auto found = resolve_event(store, args->positional[1]);
    if (!found) {
      print_error(found.error().message);
      return found.error().kind == ErrorKind::invalid ? k_exit_usage : k_exit_failed;
    }
    if (sub == "show") {
      std::optional<nlohmann::json> plan;
      if (args->has("--plan") && !(plan = planned_now(config_path, *found, code))) return code;
      return show(store, *found, json, now, plan);
    }
    selection = EventSelection{};
    selection->ids = {found->id};
  }
  const EventActionOutcome done = act_on_events(store, sub, *selection, reason, now);
  if (done.status != 200) {
    print_error(done.error);
    return done.status == 400 ? k_exit_usage : k_exit_failed;
  }
  const std::string what = sub == "retry" ? "queued again" : sub == "approve" ? "approved" : "rejected";
  if (json) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& [id, message] : done.errors) errors.push_back({{"id", id}, {"error", message}});
    print_json({{"changed", done.changed}, {"ids", done.ids}, {"errors", errors}});
  } else {
    std::cout << done.changed << " event" << (done.changed == 1 ? "" : "s") << " " << what;
    if (sub == "retry" && done.changed > 0) std::cout << "; the daemon runs them at its next cycle";
    std::cout << "\n";
    for (const auto& [id, message] : done.errors) print_error(fmt::format("event {}: {}", id, message));
  }
  return done.errors.empty() ? k_exit_ok : k_exit_failed;
}

} // namespace h2r::cli
