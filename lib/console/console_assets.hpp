// The console's pages (lib/console/web/ in the source tree), embedded at build time by cmake/embed_console.cmake:
// nothing is fetched at build or run time.
#pragma once

#include <span>
#include <string_view>

namespace h2r {

struct ConsoleAsset {
  std::string_view path;           // "/ui/app.js"; "/ui/" for index.html
  std::string_view content_type;
  std::string_view body;
};

std::span<const ConsoleAsset> console_assets();

} // namespace h2r
