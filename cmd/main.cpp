// mirror: keeps Kafka clusters in sync the GitOps way. The command-line shell: parses arguments and
// maps outcomes to exit codes; the work happens in the libraries.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cmd/apply.h"
#include "cmd/exit_codes.h"
#include "cmd/failover.h"
#include "cmd/import.h"
#include "cmd/plan.h"
#include "cmd/run.h"
#include "cmd/status.h"
#include "cmd/validate.h"
#include "common/git_commit.h"
#include "common/redact.h"
#include "common/version.h"
#include "kafka/client_config.h"

int main(int argc, char** argv) {
  // Every resolved secret is registered as it is resolved; from here on nothing printed can show one.
  mirror::install_redacting_streams();
  CLI::App app{
      "mirror keeps Kafka clusters in sync the GitOps way: plan the difference between a replication\n"
      "spec in git and the live clusters, apply it, and run the replication engine.",
      "mirror"};
  app.set_version_flag("--version", std::string("mirror ") + mirror::kVersion + " (commit " +
                                        mirror::kGitCommit + ", librdkafka " +
                                        mirror::kafka::librdkafka_version() + ")");
  app.footer(
      "Exit codes: 0 success, 1 error, 2 changes present (plan --detailed-exitcode), 3 denied by a\n"
      "policy, 4 saved plan is stale, 64 usage error.\n"
      "Local test clusters: scripts/kafka-local up|down|status. Documentation: docs/.");
  app.require_subcommand(0, 1);

  mirror::cmd::ValidateOptions validate;
  CLI::App* validate_cmd = mirror::cmd::add_validate(app, validate);
  mirror::cmd::PlanOptions plan;
  CLI::App* plan_cmd = mirror::cmd::add_plan(app, plan);
  mirror::cmd::ShowOptions show;
  CLI::App* show_cmd = mirror::cmd::add_show(app, show);
  mirror::cmd::ApplyOptions apply;
  CLI::App* apply_cmd = mirror::cmd::add_apply(app, apply);
  mirror::cmd::RunOptions run;
  CLI::App* run_cmd = mirror::cmd::add_run(app, run);
  mirror::cmd::ForceUnlockOptions unlock;
  CLI::App* unlock_cmd = mirror::cmd::add_force_unlock(app, unlock);
  mirror::cmd::StatusOptions status;
  CLI::App* status_cmd = mirror::cmd::add_status(app, status);
  mirror::cmd::FailoverOptions failover, failback;
  failback.back = true;
  CLI::App* failover_cmd = mirror::cmd::add_failover(app, failover);
  CLI::App* failback_cmd = mirror::cmd::add_failback(app, failback);
  mirror::cmd::ImportMm2Options import_mm2;
  CLI::App* import_mm2_cmd = mirror::cmd::add_import(app, import_mm2);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return mirror::cmd::kExitUsage;
  }
  try {
    if (validate_cmd->parsed()) return mirror::cmd::run_validate(validate);
    if (plan_cmd->parsed()) return mirror::cmd::run_plan(plan);
    if (show_cmd->parsed()) return mirror::cmd::run_show(show);
    if (apply_cmd->parsed()) return mirror::cmd::run_apply(apply);
    if (status_cmd->parsed()) return mirror::cmd::run_status(status);
    if (run_cmd->parsed()) return mirror::cmd::run_run(run);
    if (unlock_cmd->parsed()) return mirror::cmd::run_force_unlock(unlock);
    if (failover_cmd->parsed()) return mirror::cmd::run_failover(failover);
    if (failback_cmd->parsed()) return mirror::cmd::run_failover(failback);
    if (import_mm2_cmd->parsed()) return mirror::cmd::run_import_mm2(import_mm2);
  } catch (const std::exception& e) {
    // Last resort: a bug, not bad input. Say so instead of crashing.
    std::cerr << "mirror: internal error: " << e.what() << "\nPlease report this with the command you ran.\n";
    return mirror::cmd::kExitError;
  }
  std::cout << app.help();
  return mirror::cmd::kExitOk;
}
