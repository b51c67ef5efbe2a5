// HostileServer: a small HTTP server on 127.0.0.1 (ephemeral port) posing as Zoom, whose answers each
// test sets — the token endpoint and the SCIM paths — to try h2r against a broken or malicious Zoom
// (issue 26). It records every request it parsed, so a test can tell that a smuggled one arrived.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace h2r::test {

struct SeenRequest {
  std::string method;
  std::string path;     // without the query
  httplib::Headers headers;
  int remote_port = -1;   // the client's port: the same one twice is one kept-alive connection
};

class HostileServer {
public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Listens at once; the token endpoint answers a plain valid token and /scim2/Users an empty list
  // until a test replaces them.
  HostileServer();
  ~HostileServer();   // stops the server (a dripping answer notices stopping() and ends)
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  std::string oauth_url() const;   // http://127.0.0.1:PORT/oauth/token
  std::string api_url() const;     // http://127.0.0.1:PORT/scim2

  // The answer of POST /oauth/token.
  void on_token(Handler handler);
  // The answer of every other request (any method, any path under /scim2).
  void on_scim(Handler handler);

  // Every request parsed so far, in order.
  std::vector<SeenRequest> requests() const;
  // True once the destructor started: dripping content providers end their loop.
  bool stopping() const { return m_stopping; }

  // Answers: a token answer with this access_token; a SCIM list answer as given.
  static Handler token(const std::string& access_token);
  static Handler json(int status, const std::string& body);
  // A 200 answer of `total` bytes of `fill`, produced in 64 KiB pieces without holding it whole;
  // `sent` (may be null) counts the bytes the client accepted.
  Handler big(std::size_t total, char fill, std::atomic<std::size_t>* sent = nullptr) const;
  // A 200 answer that sends `body` one byte a second (chunked) until done or stopping().
  Handler drip(const std::string& body) const;

private:
  void record(const httplib::Request& req);

  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  mutable std::mutex m_mutex;
  Handler m_token;
  Handler m_scim;
  std::vector<SeenRequest> m_requests;
};

} // namespace h2r::test
