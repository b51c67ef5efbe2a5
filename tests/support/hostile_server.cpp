#include "support/hostile_server.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <stdexcept>

namespace h2r::test {

HostileServer::HostileServer() {
  // h2r cutting an answer off closes the socket this server writes: that must not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  m_token = token("hostile-test-token");
  m_scim = json(200, R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,)"
                     R"("startIndex":1,"itemsPerPage":0,"Resources":[]})");
  auto dispatch = [this](bool is_token) {
    return [this, is_token](const httplib::Request& req, httplib::Response& res) {
      record(req);
      Handler handler;
      {
        std::lock_guard lock(m_mutex);
        handler = is_token ? m_token : m_scim;
      }
      handler(req, res);
    };
  };
  m_server.Post("/oauth/token", dispatch(true));
  for (const char* pattern : {"/scim2/.*", "/scim2"}) {
    m_server.Get(pattern, dispatch(false));
    m_server.Post(pattern, dispatch(false));
    m_server.Put(pattern, dispatch(false));
    m_server.Patch(pattern, dispatch(false));
    m_server.Delete(pattern, dispatch(false));
  }
  // Anything else (a smuggled request to an odd path included) is recorded too. httplib calls this for
  // every answer of 400 or more, a handler's 429 included: a request a route took (its path matched
  // one) is recorded there already.
  m_server.set_error_handler([this](const httplib::Request& req, httplib::Response&) {
    if (req.matches.empty()) record(req);
  });
  m_port = m_server.bind_to_any_port("127.0.0.1");
  if (m_port <= 0) throw std::runtime_error("HostileServer: cannot bind 127.0.0.1");
  m_thread = std::thread([this] { m_server.listen_after_bind(); });
  while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HostileServer::~HostileServer() {
  m_stopping = true;
  m_server.stop();
  if (m_thread.joinable()) m_thread.join();
}

std::string HostileServer::oauth_url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/oauth/token"; }
std::string HostileServer::api_url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/scim2"; }

void HostileServer::on_token(Handler handler) {
  std::lock_guard lock(m_mutex);
  m_token = std::move(handler);
}

void HostileServer::on_scim(Handler handler) {
  std::lock_guard lock(m_mutex);
  m_scim = std::move(handler);
}

std::vector<SeenRequest> HostileServer::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void HostileServer::record(const httplib::Request& req) {
  std::lock_guard lock(m_mutex);
  m_requests.push_back({req.method, req.path, req.headers, req.remote_port});
}

HostileServer::Handler HostileServer::token(const std::string& access_token) {
  return json(200, nlohmann::json{{"access_token", access_token}, {"token_type", "bearer"}, {"expires_in", 3599}}.dump());
}

HostileServer::Handler HostileServer::json(int status, const std::string& body) {
  return [status, body](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    res.set_content(body, "application/json");
  };
}

HostileServer::Handler HostileServer::big(std::size_t total, char fill, std::atomic<std::size_t>* sent) const {
  return [this, total, fill, sent](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content_provider(total, "application/json",
                             [this, fill, sent, piece = std::string(64 * 1024, fill)](std::size_t offset, std::size_t length,
                                                                                     httplib::DataSink& sink) {
                               if (m_stopping) return false;
                               const std::size_t n = std::min(length, piece.size());
                               if (!sink.write(piece.data(), n)) return false;
                               if (sent) *sent = offset + n;
                               return true;
                             });
  };
}

HostileServer::Handler HostileServer::drip(const std::string& body) const {
  return [this, body](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_chunked_content_provider("application/json", [this, body](std::size_t offset, httplib::DataSink& sink) {
      if (m_stopping || offset >= body.size()) {
        sink.done();
        return true;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      return !m_stopping && sink.write(body.data() + offset, 1);
    });
  };
}

} // namespace h2r::test
