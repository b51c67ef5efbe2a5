#include "http_util.hpp"

#include <array>
#include <cctype>
#include <ctime>

namespace zoom_sim {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string format_utc(std::chrono::system_clock::time_point t, const char* pattern) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), pattern, &tm);
  return std::string(buf.data(), n);
}

} // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(k_hex[u >> 4]);
      out.push_back(k_hex[u & 0x0F]);
    }
  }
  return out;
}

std::optional<std::string> path_tail(const httplib::Request& req, std::string_view prefix) {
  std::string_view raw = req.target;
  raw = raw.substr(0, raw.find('?'));
  if (raw.substr(0, prefix.size()) != prefix || raw.size() == prefix.size()) {
    return std::nullopt;
  }
  return percent_decode(raw.substr(prefix.size()));
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  unsigned int acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      ++padding;
      continue;
    }
    if (v < 0 || padding > 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<unsigned int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (padding > 2) {
    return std::nullopt;
  }
  return out;
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

std::string format_iso(std::chrono::system_clock::time_point t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string format_http_date(std::chrono::system_clock::time_point t) {
  return format_utc(t, "%a, %d %b %Y %H:%M:%S GMT");
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body, const char* content_type) {
  res.status = status;
  res.set_content(body.dump(), content_type);
}

void send_scim_error(httplib::Response& res, int status, std::string_view detail, std::string_view scim_type) {
  nlohmann::json body = {{"schemas", {k_error_schema}}, {"detail", detail}, {"status", status}};
  if (!scim_type.empty()) {
    body["scimType"] = scim_type;
  }
  send_json(res, status, body);
}

void send_zoom_error(httplib::Response& res, int status, int code, std::string_view message) {
  send_json(res, status, {{"code", code}, {"message", message}}, k_json_content_type);
}

std::optional<nlohmann::json> read_json_body(const httplib::Request& req, httplib::Response& res) {
  const std::string type = req.get_header_value("Content-Type");
  const std::string media = type.substr(0, type.find(';'));
  if (!iequals(media, k_scim_content_type) && !iequals(media, k_json_content_type)) {
    send_scim_error(res, 415, "Content-Type must be application/scim+json or application/json.");
    return std::nullopt;
  }
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    send_scim_error(res, 400, "The request body is not a JSON object.", "invalidSyntax");
    return std::nullopt;
  }
  return body;
}

} // namespace zoom_sim
