// The console's pages: the embedded assets under /ui/, and / sends a browser there. They hold no data
// (every figure comes from /api/v1 with a session), so they are served to anyone the Host check lets in.
#include "console/console_assets.hpp"
#include "console/console_server.hpp"

#include <httplib.h>

namespace h2r {

void Console::install_asset_routes(httplib::Server& server) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/ui/"); });
  server.Get("/ui", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/ui/"); });
  for (const ConsoleAsset& asset : console_assets()) {
    server.Get(std::string(asset.path), [&asset](const httplib::Request&, httplib::Response& res) {
      res.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type).c_str());
    });
  }
}

} // namespace h2r
