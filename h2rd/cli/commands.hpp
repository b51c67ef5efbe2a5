// One function per top-level command; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace h2r::cli {

using Words = std::vector<std::string>;

int cmd_run(const std::string& config_path, const Words& words);
int cmd_check(const std::string& config_path, const Words& words);
int cmd_connection(const std::string& config_path, const Words& words);
int cmd_plan(const std::string& config_path, const Words& words);
// `plan --rules NEW.yaml` (cmd_plan_rules.cpp); `args` parsed by cmd_plan.
struct Args;
int cmd_plan_rules(const std::string& config_path, const Args& args);
int cmd_resync(const std::string& config_path, const Words& words);
int cmd_events(const std::string& config_path, const Words& words);
int cmd_reconcile(const std::string& config_path, const Words& words);
int cmd_provision(const std::string& config_path, const Words& words);
int cmd_status(const std::string& config_path, const Words& words);
int cmd_console(const std::string& config_path, const Words& words);
int cmd_migrate(const std::string& config_path, const Words& words);
int cmd_version(const Words& words);

} // namespace h2r::cli
