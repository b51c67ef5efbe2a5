// CurlTransport: HttpTransport on libcurl's multi interface (issue 30). One I/O thread drives every
// call in flight, on every connection to every origin; no thread is spent per call inside the
// transport. Connections are kept alive in the multi handle's cache and reused per origin (HTTP/2
// multiplexed where the server offers it over TLS); TLS comes from OpenSSL with peer and host
// verification on. Each call has a connect timeout and a total deadline (zoom.call_deadline) that a
// drip-fed answer cannot outlast, and an answer-size cap that ends the download as soon as it is passed.
// A request's headers and a small body leave in one write.
//
// send() blocks its caller until the answer; send_async() hands the result to a callback on the I/O
// thread, for callers that do not want a thread waiting (the callback must be short and must not call
// send() itself). Thread-safe; the destructor ends calls still in flight with a transient error.
#pragma once

#include "zoom/http_transport.hpp"

#include <functional>
#include <memory>

namespace h2r {

class CurlTransport final : public HttpTransport {
public:
  explicit CurlTransport(TransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request) override;
  // Starts `request`; `done` is called once, on the I/O thread (or at once, on this thread, for a
  // request refused before sending: a bad URL or header value).
  void send_async(HttpRequest request, Done done) override;

  // Connections opened since the transport was made (a reused keep-alive connection is not counted):
  // for tests and the benchmarks.
  long connections_opened() const;

private:
  class Loop;
  std::unique_ptr<Loop> m_loop;
};

} // namespace h2r
