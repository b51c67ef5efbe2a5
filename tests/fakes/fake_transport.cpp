#include "fakes/fake_transport.hpp"

#include <algorithm>
#include <cctype>

namespace h2r::test {

void FakeTransport::push(const std::string& route, HttpResponse response) {
  std::lock_guard lock(m_mutex);
  m_scripts[route].push_back({Step::Kind::answer, std::move(response)});
}

void FakeTransport::push_drop(const std::string& route) {
  std::lock_guard lock(m_mutex);
  m_scripts[route].push_back({Step::Kind::drop, {}});
}

void FakeTransport::push_stalled(const std::string& route, HttpResponse response) {
  std::lock_guard lock(m_mutex);
  m_scripts[route].push_back({Step::Kind::stalled, std::move(response)});
}

void FakeTransport::on(const std::string& route, Handler handler) {
  std::lock_guard lock(m_mutex);
  m_handlers[route] = std::move(handler);
}

void FakeTransport::open_gate() {
  {
    std::lock_guard lock(m_mutex);
    m_gate_open = true;
  }
  m_changed.notify_all();
}

std::string FakeTransport::route_of(const std::string& url) const {
  std::string best;
  bool found = false;
  auto consider = [&](const std::string& route) {
    if (url.find(route) != std::string::npos && (!found || route.size() > best.size())) {
      best = route;
      found = true;
    }
  };
  for (const auto& [route, steps] : m_scripts)
    if (!steps.empty()) consider(route);
  if (found) return best;
  for (const auto& [route, handler] : m_handlers) consider(route);
  return found ? best : std::string("\x01none");
}

Result<HttpResponse> FakeTransport::send(const HttpRequest& request) {
  std::unique_lock lock(m_mutex);
  m_requests.push_back(request);
  m_changed.notify_all();
  const std::string route = route_of(request.url);
  auto script = m_scripts.find(route);
  if (script != m_scripts.end() && !script->second.empty()) {
    Step step = std::move(script->second.front());
    script->second.pop_front();
    if (step.kind == Step::Kind::drop)
      return unexpected(Error{ErrorKind::transient, "no answer from the fake host (connection reset)", 0, "", ErrorReason::no_answer});
    if (step.kind == Step::Kind::stalled) m_changed.wait(lock, [this] { return m_gate_open; });
    return step.response;
  }
  auto handler = m_handlers.find(route);
  if (handler != m_handlers.end()) {
    Handler h = handler->second;
    lock.unlock();
    return h(request);
  }
  return unexpected(Error{ErrorKind::transient, "fake transport: nothing scripted for " + request.method + " " + request.url,
                          0, "", ErrorReason::no_answer});
}

std::vector<HttpRequest> FakeTransport::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

int FakeTransport::count(const std::string& route, const std::string& method) const {
  std::lock_guard lock(m_mutex);
  return static_cast<int>(std::count_if(m_requests.begin(), m_requests.end(), [&](const HttpRequest& r) {
    return r.url.find(route) != std::string::npos && (method.empty() || r.method == method);
  }));
}

bool FakeTransport::wait_for_requests(const std::string& route, int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  return m_changed.wait_for(lock, timeout, [&] {
    return std::count_if(m_requests.begin(), m_requests.end(),
                         [&](const HttpRequest& r) { return r.url.find(route) != std::string::npos; }) >= n;
  });
}

HttpResponse json_response(int status, const nlohmann::json& body,
                           std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = status;
  r.body = body.is_null() ? std::string() : body.dump();
  for (auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers[lower] = value;
  }
  return r;
}

HttpResponse token_response(const std::string& token, long long expires_in_s) {
  return json_response(200, {{"access_token", token}, {"token_type", "bearer"}, {"expires_in", expires_in_s},
                             {"scope", "user:read:admin"}, {"api_url", "https://api.zoom.us"}});
}

HttpResponse scim_error(int status, const std::string& detail, bool status_as_string) {
  nlohmann::json body = {{"schemas", {"urn:ietf:params:scim:api:messages:2.0:Error"}}, {"detail", detail}};
  if (status_as_string)
    body["status"] = std::to_string(status);
  else
    body["status"] = status;
  return json_response(status, body);
}

} // namespace h2r::test
