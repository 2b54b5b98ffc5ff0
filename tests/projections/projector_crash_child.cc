// Folds the read models of a log, committing often, until done or killed. Used by the
// projector crash test: projector_crash_child LOG_DIR READ_MODELS_DIR [bulk]
// With "bulk", every commit is written as table files that the database ingests.
#include <cstdint>
#include <cstdio>
#include <string>

#include "projections/projector.h"

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 4 && std::string(argv[3]) == "bulk")) {
    std::fprintf(stderr, "usage: projector_crash_child LOG_DIR READ_MODELS_DIR [bulk]\n");
    return 2;
  }
  malpro::LogOptions log_options;
  log_options.data_dir = argv[1];
  log_options.read_only = true;
  auto log = malpro::EventLog::Open(log_options);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  malpro::ProjectorOptions options;
  options.dir = argv[2];
  options.read_batch_events = 512;
  options.catch_up_commit_events = 1500;
  options.bulk_commit_events = argc == 4 ? 1 : UINT64_MAX;
  auto projector = malpro::Projector::Open(log->get(), options);
  if (!projector.ok()) {
    std::fprintf(stderr, "%s\n", projector.status().ToString().c_str());
    return 1;
  }
  malpro::Status status = (*projector)->CatchUp();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
