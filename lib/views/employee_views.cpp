// The console's people views (issue 27): the employee search behind GET /api/v1/employees?q=, and the
// attribute changes an event made, for the Employee page's timeline.
#include "views/views.hpp"

#include "rules/short_path.hpp"
#include "rules/text_fold.hpp"

#include <algorithm>

namespace h2r {
namespace {

std::string field(const EmployeeRecord& record, const char* key) {
  auto it = record.find(key);
  return it == record.end() ? std::string() : it->second;
}

// A search text folded twice: caseless, and caseless without diacritics or script ("alund" finds
// "Ålund", "dmitrij" finds "Дмитрий"). A text matches when it holds the needle in either fold; the
// second (an ICU transliteration, the dearer) only when the first does not.
struct Needle {
  std::string cased;
  std::string ascii;
  explicit Needle(std::string_view text) : cased(fold_case(text)), ascii(fold_case(fold_any_ascii(text))) {}
  // An empty fold (a query of combining marks only, with no ASCII form) matches nothing by that fold.
  bool in(std::string_view text) const {
    if (text.empty()) return false;
    if (!cased.empty() && fold_case(text).find(cased) != std::string::npos) return true;
    return !ascii.empty() && fold_case(fold_any_ascii(text)).find(ascii) != std::string::npos;
  }
};

} // namespace

Result<nlohmann::json> employee_search_json(Store& store, std::string_view query, int limit, int offset) {
  // Every link's userName (the Zoom address), by employee: one list per connection.
  std::map<std::string, std::vector<LinkRow>> links;
  for (const auto& c : H2R_TRY(store.list_connections()))
    for (auto& link : H2R_TRY(store.list_links(c.name))) links[link.employee_id].push_back(std::move(link));
  const Needle needle(trim(query));
  struct Hit {
    std::string sort_key;
    nlohmann::json item;
  };
  std::vector<Hit> hits;
  for (const auto& e : H2R_TRY(store.list_employees())) {
    const std::string first = field(e.record, "first_name"), last = field(e.record, "last_name");
    const std::string name = record_name(e.record);
    std::vector<std::string> texts = {e.employee_id, name, field(e.record, "email")};
    auto own = links.find(e.employee_id);
    if (own != links.end())
      for (const auto& link : own->second) texts.push_back(link.user_name);
    if (!needle.cased.empty() &&
        std::none_of(texts.begin(), texts.end(), [&](const std::string& t) { return needle.in(t); }))
      continue;
    nlohmann::json zoom = nlohmann::json::array();
    if (own != links.end())
      for (const auto& link : own->second)
        zoom.push_back({{"connection", link.connection}, {"user_name", link.user_name}, {"active", link.active}});
    hits.push_back({fold_case(last + " " + first + " " + e.employee_id),
                    {{"employee_id", e.employee_id}, {"name", name}, {"email", field(e.record, "email")},
                     {"title", field(e.record, "job_title")}, {"department", field(e.record, "department")},
                     {"status", to_string(e.status)}, {"zoom_users", zoom}, {"updated", time_json(e.updated_at_ms)}}});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.sort_key < b.sort_key; });
  nlohmann::json page = nlohmann::json::array();
  for (std::size_t i = static_cast<std::size_t>(offset); i < hits.size() && page.size() < static_cast<std::size_t>(limit); ++i)
    page.push_back(std::move(hits[i].item));
  const bool more = hits.size() > static_cast<std::size_t>(offset) + page.size();
  return nlohmann::json{{"employees", page}, {"total", hits.size()}, {"offset", offset}, {"limit", limit}, {"more", more}};
}

nlohmann::json event_changes_json(const EventRow& e) {
  nlohmann::json out = nlohmann::json::array();
  if (e.result.empty()) return out;
  const auto result = nlohmann::json::parse(e.result, nullptr, false);
  if (!result.is_object() || !result.contains("actions") || !result["actions"].is_array()) return out;
  for (const auto& action : result["actions"]) {
    if (!action.is_object() || !action.contains("calls") || !action["calls"].is_array()) continue;
    for (const auto& call : action["calls"]) {
      if (!call.is_object() || !call.contains("changes") || !call["changes"].is_array()) continue;
      for (const auto& change : call["changes"]) {
        if (!change.is_object() || !change.contains("path") || !change["path"].is_string()) continue;
        const std::string path = change["path"].get<std::string>();
        const auto connection = action.find("connection");
        out.push_back({{"connection", connection != action.end() && connection->is_string() ? *connection : nlohmann::json("")},
                       {"path", path}, {"short_path", short_scim_path(path)},
                       {"before", change.value("before", nlohmann::json())}, {"after", change.value("after", nlohmann::json())}});
      }
    }
  }
  return out;
}

} // namespace h2r
