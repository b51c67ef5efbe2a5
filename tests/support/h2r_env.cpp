#include "support/h2r_env.hpp"
#include "support/test_paths.hpp"

#include "core/time.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace h2r::test {

const char* const k_spec_rules = R"(version: 1
targets:
  - connection: zoom-main
roles:
  - name: engineering
    when:
      all:
        - { field: department, in: [Engineering, Product] }
        - { field: employment_type, equals: full_time }
    zoom:
      user_type: Licensed
      licenses: { zoomOneBizPlus: true }
      role: Member
  - name: staff
    when: { field: employment_type, in: [full_time, part_time] }
    zoom: { user_type: Basic }
on_no_role: deprovision
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  name.familyName: "{last_name}"
  displayName: "{first_name} {last_name}"
  title: "{job_title}"
  enterprise.department: "{department}"
  enterprise.employeeNumber: "{employee_id}"
  enterprise.manager: "{manager_email}"
  phoneNumbers.work: "{phone}"
  zoom.loginType.sso: true
)";

H2rEnv::H2rEnv(H2rEnvOptions options) {
  m_sim = std::make_unique<SimProcess>(options.sim_args);
  m_dir.write("rules.yaml", options.rules);
  m_database = options.database.find("://") == std::string::npos ? (m_dir.path() / options.database).string()
                                                                   : options.database;
  m_config = m_dir.write("h2rd.yaml", "database: " + options.database + "\n"
                                      "inbox: inbox\n"
                                      + (options.rules_on_change.empty()
                                             ? std::string("rules: rules.yaml\n")
                                             : "rules: { path: rules.yaml, on_change: " + options.rules_on_change + " }\n") +
                                      "secret_key_file: state/secret.key\n"
                                      "timezone: " + options.timezone + "\n"
                                      "scheduler: { interval: 1s, workers: 4 }\n"
                                      "listen: \"\"\n"
                                      "log: { level: info, format: text }\n" +
                                      options.extra_config).string();
  m_dir.write("state/.keep", "");
  m_dir.write("inbox/.keep", "");
  if (options.add_connection) {
    auto r = h2rd({"connection", "add", "zoom-main", "--account-id", m_sim->account_id(), "--client-id",
                   m_sim->client_id(), "--client-secret-stdin", "--oauth-url", m_sim->oauth_url(), "--api-url",
                   m_sim->api_url(), "--rate-limit", options.rate_limit},
                  m_sim->secret().reveal() + "\n");
    if (r.exit_code != 0) throw std::runtime_error("connection add failed: " + r.err);
  }
}

ProcessResult H2rEnv::h2rd(const std::vector<std::string>& args, std::string_view stdin_text,
                           std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {h2rd_path(), "-c", m_config};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, stdin_text, {}, timeout);
}

nlohmann::json H2rEnv::h2rd_json(const std::vector<std::string>& args) const {
  auto with_json = args;
  with_json.push_back("--json");
  auto r = h2rd(with_json);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded())
    throw std::runtime_error("h2rd output is not JSON (exit " + std::to_string(r.exit_code) + "): " + r.out + r.err);
  return j;
}

void H2rEnv::drop(const std::string& name, const std::string& content) const {
  const std::string tmp = inbox() + "/" + name + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  REQUIRE(std::rename(tmp.c_str(), (inbox() + "/" + name).c_str()) == 0);
}

ProcessResult H2rEnv::run_once() const { return h2rd({"run", "--once"}); }

nlohmann::json H2rEnv::events() const { return h2rd_json({"events", "list"}); }

std::vector<nlohmann::json> H2rEnv::sim_users_named(const std::string& user_name) const {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  std::vector<nlohmann::json> out;
  for (const auto& u : m_sim->users())
    if (lower(u.value("userName", "")) == lower(user_name)) out.push_back(u);
  return out;
}

std::string event_json(const std::string& event_id, const std::string& type, const nlohmann::json& employee_record,
                       const std::string& effective_date, const std::string& leave_type) {
  nlohmann::json e = {{"event_id", event_id}, {"type", type}, {"employee", employee_record}};
  if (!effective_date.empty()) e["effective_date"] = effective_date;
  if (!leave_type.empty()) e["leave_type"] = leave_type;
  return e.dump();
}

std::string date_of(SystemTime t) { return format_utc(t).substr(0, 10); }

std::string date_in_days(int days) { return date_of(std::chrono::system_clock::now() + std::chrono::hours(24) * days); }

nlohmann::json employee(const std::string& id, const std::string& first, const std::string& last,
                        const std::string& department, const std::string& employment) {
  std::string email = first + "." + last + "@example.com";
  std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return {{"employee_id", id},        {"first_name", first},          {"last_name", last},
          {"email", email},           {"department", department},     {"job_title", "Engineer"},
          {"employment_type", employment}, {"manager_email", "boss@example.com"}};
}

} // namespace h2r::test
