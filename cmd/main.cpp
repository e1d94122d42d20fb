// mirror: keeps Kafka clusters in sync the GitOps way. The command-line shell: parses arguments and
// maps outcomes to exit codes; the work happens in the libraries.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cmd/exit_codes.h"
#include "common/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mirror keeps Kafka clusters in sync the GitOps way: plan the difference between a replication\n"
      "spec in git and the live clusters, apply it, and run the replication engine.",
      "mirror"};
  app.set_version_flag("--version", std::string("mirror ") + mirror::kVersion);
  app.footer(
      "Exit codes: 0 success, 1 error, 2 changes present (plan --detailed-exitcode), 3 denied by a\n"
      "policy, 4 saved plan is stale, 64 usage error.\n"
      "Local test clusters: scripts/kafka-local up|down|status. Documentation: docs/.");
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return mirror::cmd::kExitUsage;
  }
  if (argc == 1) {
    std::cout << app.help();
    return mirror::cmd::kExitOk;
  }
  return mirror::cmd::kExitOk;
}
