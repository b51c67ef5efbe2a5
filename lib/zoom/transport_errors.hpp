// What both transports (http_transport.cpp, curl_transport.cpp) say when a call gets no answer, in one
// place: the same words for the same failure, whichever client made the call. Each names the host and
// port, never a header value or a body.
#pragma once

#include "core/error.hpp"
#include "zoom/http_transport.hpp"
#include "zoom/url.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace h2r::transport {

// "https://api.zoom.us:443"
std::string where_of(const UrlParts& url);
// Splits the request's URL into `url` and checks every header value (header_problem); the error of a
// request that must not be sent, or nullopt.
std::optional<Error> refuse(const HttpRequest& request, UrlParts& url);
// Whether the request carries a body (and its Content-Type): any non-empty body, and always for POST,
// PUT and PATCH (an empty one is sent as Content-Length: 0). Both transports decide it here.
bool sends_body(const HttpRequest& request);
// The answer passed `cap` bytes (the request's own or TransportOptions::max_answer_bytes).
Error answer_too_big(const UrlParts& url, std::size_t cap);
// No complete answer by the call's deadline (zoom.call_deadline).
Error past_deadline(const UrlParts& url, std::chrono::milliseconds deadline);
// No connection could be made ("cannot reach ... (why)").
Error unreachable(const UrlParts& url, std::string_view why);
// Connected, but no (complete) answer came ("no answer from ... (why)").
Error no_answer(const UrlParts& url, std::string_view why);
// The server's certificate did not verify against the trust store (permanent: retrying cannot help).
Error tls_unverified(const UrlParts& url);
// The CA certificates (the system's, or TransportOptions::ca_cert_file) could not be read.
Error ca_not_loaded();

} // namespace h2r::transport
