#include "daemon/cli/args.hpp"

namespace h2r::cli {

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::optional<Args> parse_args(const std::vector<std::string>& words, const std::set<std::string>& value_options,
                               const std::set<std::string>& flag_options, std::string& error) {
  Args args;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-' || w == "-") {
      args.positional.push_back(w);
      continue;
    }
    if (w == "--") {
      args.positional.insert(args.positional.end(), words.begin() + static_cast<long>(i) + 1, words.end());
      break;
    }
    std::string name = w;
    std::optional<std::string> inline_value;
    if (auto eq = w.find('='); eq != std::string::npos) {
      name = w.substr(0, eq);
      inline_value = w.substr(eq + 1);
    }
    if (value_options.count(name)) {
      if (inline_value) {
        args.values[name] = *inline_value;
      } else if (i + 1 < words.size()) {
        args.values[name] = words[++i];
      } else {
        error = "option " + name + " needs a value";
        return std::nullopt;
      }
    } else if (flag_options.count(name) && !inline_value) {
      args.flags.insert(name);
    } else {
      error = "unknown option " + name;
      return std::nullopt;
    }
  }
  return args;
}

} // namespace h2r::cli
