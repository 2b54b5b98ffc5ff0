// A witness over HTTP (C2SP tlog-witness, docs/transparency.md section 8): POST
// <prefix>/add-checkpoint answered by a Witness (engine/tlog_witness.h), in the protocol's own
// words (not the API's JSON errors): 200 with the cosignature lines, 400, 403, 404, 409 (with
// the latest cosigned size as text/x.tlog.size when the old size does not match), 422.
// `malpro witness` serves WitnessHandler; the bank simulator answers the same route under
// /witness with AnswerAddCheckpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "adapters/http/http_handler.h"
#include "engine/tlog_witness.h"

namespace malpro {

// The answer to an add-checkpoint `request` (any method but POST: 405), cosigned at `now_s`.
HttpResponse AnswerAddCheckpoint(Witness& witness, const HttpRequest& request, uint64_t now_s);

// Serves one witness: POST /add-checkpoint, and GET / (its verifier key and the logs it knows,
// as text). Everything else is 404.
class WitnessHandler final : public HttpHandler {
 public:
  // `witness` must outlive the handler. `clock_s`: now in POSIX seconds.
  WitnessHandler(Witness* witness, std::vector<std::string> origins,
                 std::function<uint64_t()> clock_s);
  HttpResponse Handle(const HttpRequest& request,
                      std::chrono::steady_clock::time_point read_deadline) override;
  size_t BodyLimitFor(http::verb method, std::string_view target) const override;
  std::string RouteLabel(http::verb method, std::string_view target) const override;
  std::vector<std::string> RouteLabels() const override;

 private:
  Witness* witness_;
  std::vector<std::string> origins_;
  std::function<uint64_t()> clock_s_;
};

}  // namespace malpro
