// `malpro audit replay --serve`: the ledger as it stood at a sequence, served read-only. The log
// is opened as of that sequence (LogOptions::read_until), so the reads of the log and of the
// ledger (GET /v1/orders/{order_id}, /v1/events, /v1/log/head) stop there like the read models
// replayed beside it; every write is refused.
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/cli/geography_config.h"
#include "adapters/cli/serve_parts.h"
#include "adapters/http/api.h"
#include "adapters/http/metrics.h"
#include "adapters/http/server.h"
#include "engine/civil_time.h"
#include "engine/hash.h"
#include "projections/projector.h"

namespace malpro::cli {

int ServeReplay(const MalproConfig& config, EventLog& log, Projector& projector) {
  Result<Geography> geography = LoadGeography(config.geography_file);
  if (!geography.ok()) return Fail(geography.status());
  const ChainHead head = log.Head();
  Result<std::vector<Event>> last = log.Read(head.sequence, 1);
  if (!last.ok()) return Fail(last.status());
  // The ledger's clock stands still at the last event's time: ages and "today" are as then.
  const int64_t as_of_us = last->empty() ? 0 : last->front().recorded_at_us;
  Ledger ledger(&log, std::move(geography).value(),
                LedgerOptionsOf(config, [as_of_us] { return as_of_us; }));
  HttpMetrics metrics;
  ApiDependencies dependencies = ApiDependenciesOf(config, log, ledger, &projector, metrics);
  const std::string as_of = "sequence " + std::to_string(head.sequence) + " (recorded " +
                            JakartaTimestamp(as_of_us) + ")";
  dependencies.read_only = "this server shows the ledger as it stood at " + as_of +
                           " (malpro audit replay --serve) and takes no writes";
  HttpServing serving;
  serving.note =
      ", read-only: the ledger as it stood at " + as_of + ", head hash " + HashToHex(head.hash);
  serving.reload_tokens = false;
  return ServeHttpUntilSignal(config, std::move(dependencies), metrics, serving);
}

}  // namespace malpro::cli
