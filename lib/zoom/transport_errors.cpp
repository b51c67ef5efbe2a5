#include "zoom/transport_errors.hpp"

#include <cctype>

namespace h2r {
namespace {

std::string byte_hex(unsigned char c) {
  static constexpr char k_hex[] = "0123456789abcdef";
  return std::string("0x") + k_hex[c >> 4] + k_hex[c & 15];
}

// RFC 9110 5.6.2 tchar.
bool is_tchar(unsigned char c) {
  return std::isalnum(c) != 0 || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos);
}

std::string megabytes(std::size_t bytes) {
  return bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes) + " bytes";
}

std::string duration_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

} // namespace

std::string header_problem(std::string_view name, std::string_view value) {
  if (name.empty()) return "an HTTP header with an empty name";
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!is_tchar(static_cast<unsigned char>(name[i])))
      return "HTTP header name has byte " + byte_hex(static_cast<unsigned char>(name[i])) + " at " + std::to_string(i) +
             ", not allowed in a header name (RFC 9110)";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return "the " + std::string(name.substr(0, 64)) + " header's value has control byte " + byte_hex(c) + " at byte " +
             std::to_string(i) + " (RFC 9110 forbids CR, LF, NUL and other control characters in a header value)";
  }
  return {};
}

namespace transport {

std::string where_of(const UrlParts& url) { return url.scheme + "://" + url.host + ":" + std::to_string(url.port); }

std::optional<Error> refuse(const HttpRequest& request, UrlParts& url) {
  auto parts = split_url(request.url);
  if (!parts) return Error{ErrorKind::permanent, "not an http(s) URL: " + request.url.substr(0, 200)};
  url = std::move(*parts);
  for (const auto& [name, value] : request.headers)
    if (auto problem = header_problem(name, value); !problem.empty())
      return Error{ErrorKind::permanent, "not sent to " + where_of(url) + ": " + problem};
  return std::nullopt;
}

bool sends_body(const HttpRequest& request) {
  return !request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
}

Error answer_too_big(const UrlParts& url, std::size_t cap) {
  return Error{ErrorKind::transient,
               "the answer of " + where_of(url) + " is larger than " + megabytes(cap) + ", the most h2r reads: cut off"};
}

Error past_deadline(const UrlParts& url, std::chrono::milliseconds deadline) {
  return Error{ErrorKind::transient,
               "no complete answer from " + where_of(url) + " within " + duration_text(deadline) +
                   " (zoom.call_deadline): cut off",
               0, "", ErrorReason::no_answer};
}

Error unreachable(const UrlParts& url, std::string_view why) {
  return Error{ErrorKind::transient, "cannot reach " + where_of(url) + " (" + std::string(why) + ")", 0, "",
               ErrorReason::unreachable};
}

Error no_answer(const UrlParts& url, std::string_view why) {
  return Error{ErrorKind::transient, "no answer from " + where_of(url) + " (" + std::string(why) + ")", 0, "",
               ErrorReason::no_answer};
}

Error tls_unverified(const UrlParts& url) {
  return Error{ErrorKind::permanent, "the TLS certificate of " + where_of(url) + " could not be verified", 0, "",
               ErrorReason::tls};
}

Error ca_not_loaded() {
  return Error{ErrorKind::permanent, "the CA certificates could not be loaded", 0, "", ErrorReason::tls};
}

} // namespace transport
} // namespace h2r
