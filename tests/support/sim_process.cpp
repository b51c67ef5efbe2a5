#include "support/sim_process.hpp"
#include "support/test_paths.hpp"

#include <httplib.h>
#include <openssl/rand.h>

#include <cctype>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace h2r::test {

namespace {

constexpr const char* k_listening = "zoom-sim listening on ";
constexpr std::chrono::milliseconds k_sim_stop_grace{5000};
constexpr time_t k_http_timeout_s = 30;

std::string random_secret() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    throw std::runtime_error("SimProcess: RAND_bytes failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out = "sim-";
  for (const unsigned char b : raw) {
    out.push_back(k_hex[b >> 4]);
    out.push_back(k_hex[b & 0x0F]);
  }
  return out;
}

std::unique_ptr<httplib::Client> client_for(int port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(k_http_timeout_s);
  client->set_read_timeout(k_http_timeout_s);
  return client;
}

// The body of a /_sim answer as JSON, or an exception naming the call.
nlohmann::json expect(const httplib::Result& result, const std::string& call, int status) {
  if (!result) {
    throw std::runtime_error("zoom-sim " + call + ": " + httplib::to_string(result.error()));
  }
  if (result->status != status) {
    throw std::runtime_error("zoom-sim " + call + ": HTTP " + std::to_string(result->status) + " " + result->body);
  }
  return result->body.empty() ? nlohmann::json() : nlohmann::json::parse(result->body);
}

} // namespace

std::string url_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += {'%', k_hex[u >> 4], k_hex[u & 0x0F]};
    }
  }
  return out;
}

SimProcess::SimProcess(std::vector<std::string> extra_args, std::string account_id, std::string client_id)
    : m_account_id(std::move(account_id)), m_client_id(std::move(client_id)), m_secret(random_secret()) {
  const auto secret_file = m_dir.write("client-secret", m_secret.reveal());
  std::vector<std::string> argv = {zoom_sim_path(), "--port", "0", "--account-id", m_account_id,
                                   "--client-id", m_client_id, "--client-secret-file", secret_file.string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  m_child = std::make_unique<ChildProcess>(argv);
  if (!m_child->wait_for_out("\n", k_sim_start_timeout)) {
    m_child->stop(k_sim_stop_grace);
    throw std::runtime_error("zoom-sim did not announce its port within " +
                             std::to_string(k_sim_start_timeout.count()) + " ms; stderr: " + m_child->err());
  }
  const std::string line = m_child->out().substr(0, m_child->out().find('\n'));
  const size_t colon = line.rfind(':');
  if (line.rfind(k_listening, 0) != 0 || colon == std::string::npos) {
    m_child->stop(k_sim_stop_grace);
    throw std::runtime_error("zoom-sim printed an unexpected first line: " + line);
  }
  m_port = std::stoi(line.substr(colon + 1));
}

SimProcess::~SimProcess() {
  if (m_child) {
    m_child->stop(k_sim_stop_grace);
  }
}

std::string SimProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
std::string SimProcess::oauth_url() const { return base_url() + "/oauth/token"; }
std::string SimProcess::api_url() const { return base_url() + "/scim2"; }

std::string SimProcess::fetch_token() const {
  auto client = client_for(m_port);
  client->set_basic_auth(m_client_id, m_secret.reveal());
  const std::string path = "/oauth/token?grant_type=account_credentials&account_id=" + url_encode(m_account_id);
  return expect(client->Post(path, "", "application/x-www-form-urlencoded"), "POST /oauth/token", 200)
      .at("access_token")
      .get<std::string>();
}

nlohmann::json SimProcess::users() const { return expect(client_for(m_port)->Get("/_sim/users"), "GET /_sim/users", 200); }

nlohmann::json SimProcess::stats() const { return expect(client_for(m_port)->Get("/_sim/stats"), "GET /_sim/stats", 200); }

nlohmann::json SimProcess::requests() const {
  return expect(client_for(m_port)->Get("/_sim/requests"), "GET /_sim/requests", 200);
}

nlohmann::json SimProcess::seed_user(const nlohmann::json& user) const {
  return expect(client_for(m_port)->Post("/_sim/users", user.dump(), "application/json"), "POST /_sim/users", 201);
}

nlohmann::json SimProcess::patch_user(const std::string& id, const nlohmann::json& changes) const {
  return expect(client_for(m_port)->Patch("/_sim/users/" + url_encode(id), changes.dump(), "application/json"),
                "PATCH /_sim/users/{id}", 200);
}

void SimProcess::delete_user(const std::string& id) const {
  expect(client_for(m_port)->Delete("/_sim/users/" + url_encode(id)), "DELETE /_sim/users/{id}", 204);
}

nlohmann::json SimProcess::seed_group(const std::string& display_name) const {
  const nlohmann::json body = {{"displayName", display_name}};
  return expect(client_for(m_port)->Post("/_sim/groups", body.dump(), "application/json"), "POST /_sim/groups", 201);
}

nlohmann::json SimProcess::groups() const { return expect(client_for(m_port)->Get("/_sim/groups"), "GET /_sim/groups", 200); }

nlohmann::json SimProcess::configure(const nlohmann::json& settings) const {
  return expect(client_for(m_port)->Post("/_sim/config", settings.dump(), "application/json"), "POST /_sim/config", 200);
}

void SimProcess::invalidate_tokens() const {
  expect(client_for(m_port)->Post("/_sim/invalidate-tokens", "", "application/json"), "POST /_sim/invalidate-tokens", 204);
}

void wait_clear_of_midnight_utc() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto midnight = floor<days>(now) + days(1);
  if (midnight - now < minutes(5)) std::this_thread::sleep_until(midnight + seconds(1));
}

void SimProcess::reset() const {
  expect(client_for(m_port)->Post("/_sim/reset", "", "application/json"), "POST /_sim/reset", 204);
}

} // namespace h2r::test
