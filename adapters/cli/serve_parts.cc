// What `malpro serve`, `malpro replica` and `malpro audit replay --serve` start beside the log
// (serve_parts.h).
#include "adapters/cli/serve_parts.h"

#include <unistd.h>

#include <iostream>

#include "adapters/cli/commands.h"
#include "adapters/cli/serve_metrics.h"
#include "adapters/http/server.h"

namespace malpro::cli {

// The read models: caught up before the API opens, then following the log.
Result<std::unique_ptr<Projector>> StartReadModels(const MalproConfig& config, EventLog& log,
                                                   HttpMetrics& metrics) {
  ProjectorOptions projector_options;
  projector_options.dir = config.log.data_dir + "/projections";
  projector_options.progress = [](const std::string& line) {
    std::cerr << "malpro: " << line << std::endl;
  };
  Result<std::unique_ptr<Projector>> projector = Projector::Open(&log, projector_options);
  if (!projector.ok()) return projector.status();
  Status caught_up = (*projector)->CatchUp();
  if (!caught_up.ok()) return caught_up;
  (*projector)->Start();
  std::cout << "malpro: read models in " << projector_options.dir << " at sequence "
            << (*projector)->Applied() << std::endl;
  AddReadModelMetrics(metrics, projector->get(), log);
  return projector;
}

Result<MerkleTree> StartMerkleTree(const MalproConfig& config, const EventLog& log, bool sign) {
  const std::string dir = config.log.data_dir + "/" + tlog_directory;
  Result<std::unique_ptr<TlogStore>> store = TlogStore::Open(dir, /*read_only=*/false);
  if (!store.ok()) return store.status();
  MerkleTree tree{std::move(store).value(), nullptr, nullptr, nullptr};
  if (tree.store->Size() > log.Head().sequence) {
    return Status::Corruption("the Merkle tree in " + dir + " holds " +
                              std::to_string(tree.store->Size()) + " leaves but the log only " +
                              std::to_string(log.Head().sequence) + " events: stop, move " + dir +
                              " aside, and start again to build it from the log");
  }
  tree.builder = std::make_unique<TlogBuilder>(&log, tree.store.get());
  tree.builder->Start();
  std::cout << "malpro: Merkle tree in " << dir << " at " << tree.store->Size()
            << " leaves, following the log" << std::endl;
  if (sign && config.checkpoints_enabled) {
    Result<NoteSigner> signer = NoteSigner::FromPem(
        config.checkpoint_key_name, config.checkpoint_key_pem, "transparency.private_key_file");
    if (!signer.ok()) return signer.status();
    CheckpointOptions options = config.checkpoints;
    if (!config.witnesses.empty()) {
      tree.witnesses = std::make_unique<WitnessClient>(config.witnesses, tree.store.get());
      options.cosign = [client = tree.witnesses.get()](const std::string& note, uint64_t size) {
        return client->Cosign(note, size);
      };
    }
    tree.checkpoints = std::make_unique<CheckpointIssuer>(&log, tree.store.get(),
                                                          std::move(signer).value(), options);
  }
  return tree;
}

void ServingCore::Stop() {
  models->Stop();
  tree.builder->Stop();
}

Result<std::unique_ptr<ServingCore>> StartServingCore(const MalproConfig& config, EventLog& log,
                                                      bool sign) {
  auto core = std::make_unique<ServingCore>();
  AddBuildMetrics(core->metrics);
  AddLogMetrics(core->metrics, log);
  AddDataDirMetrics(core->metrics, config.log.data_dir);
  Result<std::unique_ptr<Projector>> models = StartReadModels(config, log, core->metrics);
  if (!models.ok()) return models.status();
  core->models = std::move(models).value();
  Result<MerkleTree> tree = StartMerkleTree(config, log, sign);
  if (!tree.ok()) return tree.status();
  core->tree = std::move(tree).value();
  AddTlogMetrics(core->metrics, core->tree.store.get(), core->tree.builder.get(), log);
  if (sign) {
    AddCheckpointMetrics(core->metrics, core->tree.checkpoints.get(), core->tree.witnesses.get());
  }
  return core;
}

ApiDependencies ApiDependenciesOf(const MalproConfig& config, EventLog& log, Ledger& ledger,
                                  Projector* models, HttpMetrics& metrics) {
  ApiDependencies dependencies;
  dependencies.log = &log;
  dependencies.ledger = &ledger;
  dependencies.projector = models;
  dependencies.tokens = &config.tokens;
  dependencies.metrics = &metrics;
  dependencies.body_bytes_max = config.http.body_bytes_max;
  dependencies.photo_body_bytes_max = config.http.photo_body_bytes_max;
  return dependencies;
}

int ServeHttpUntilSignal(const MalproConfig& config, ApiDependencies dependencies,
                         HttpMetrics& metrics, const HttpServing& serving) {
  const BrowserParts browser_parts = StartBrowserParts(config, dependencies);
  Api api(std::move(dependencies));
  const std::unique_ptr<HttpHandler> wrapper = serving.wrap ? serving.wrap(api) : nullptr;
  HttpServer server(config.http, wrapper ? wrapper.get() : static_cast<HttpHandler*>(&api),
                    &metrics);
  Status started = server.Start();
  if (!started.ok()) return Fail(WhenPortInUse(started, config.http.port, "--port"));
  std::cout << "malpro: HTTP API on http://" << config.http.listen_address << ":" << server.port()
            << " (" << config.tokens.size() << " tokens configured)" << serving.note << std::endl;
  PrintConsoleLine(config, browser_parts, server.port());
  if (serving.listening) serving.listening(server.port());
  std::function<void()> on_hangup;
  if (serving.reload_tokens) {
    std::cout << "malpro: running; stop with Ctrl-C; kill -HUP " << getpid()
              << " reloads the tokens" << std::endl;
    on_hangup = [&] { ReloadTokens(config, browser_parts.sessions.get()); };
  } else {
    std::cout << "malpro: running; stop with Ctrl-C" << std::endl;
  }
  const int signal_number = WaitForStopSignal(on_hangup);
  std::cout << "malpro: signal " << signal_number << ", stopping" << std::endl;
  server.Stop();
  return kExitOk;
}

}  // namespace malpro::cli
