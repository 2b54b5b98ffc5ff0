// The projector's queries and subscriptions: each reads the read models under the shared lock.
#include <simdjson.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "engine/json.h"
#include "projections/projector.h"

namespace malpro {

// ---- Queries. ----

std::string Projector::Catalog(const CatalogQuery& query) const {
  std::shared_lock lock(mutex_);
  return models_.catalog.Query(query);
}

Result<std::string> Projector::Merchant(const std::string& umkm_id) const {
  std::shared_lock lock(mutex_);
  return models_.catalog.Merchant(umkm_id);
}

Result<std::string> Projector::AsnSpend(const std::string& nip, const std::string& month) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.Spend(nip, month, policy_);
}

Result<std::string> Projector::AsnHistory(const std::string& nip) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.History(nip);
}

std::string Projector::Rollup(const std::string& month, RollupBy by) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.Rollup(month, by, policy_);
}

Result<std::string> Projector::Shortfalls(const std::string& month, const std::string& agency,
                                          size_t offset, size_t limit) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.Shortfalls(month, agency, policy_, offset, limit);
}

std::pair<MonthFigures, uint64_t> Projector::ComplianceFigures(const std::string& month) const {
  std::shared_lock lock(mutex_);
  return {models_.asn_spend.Figures(month, policy_), Applied()};
}

AsnSpendProjection::Compliance Projector::MonthCompliance(const std::string& month) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.MonthCompliance(month, policy_);
}

std::string Projector::MerchantSales(const std::string& umkm_id, const std::string& from,
                                     const std::string& to) const {
  std::shared_lock lock(mutex_);
  return models_.merchant_sales.Sales(umkm_id, from, to);
}

std::string Projector::Outstanding(const std::string& umkm_id) const {
  std::shared_lock lock(mutex_);
  return models_.merchant_sales.OutstandingJson(umkm_id);
}

std::string Projector::Circulation(const std::string& month) const {
  std::shared_lock lock(mutex_);
  return models_.circulation.Month(month, models_.catalog);
}

std::string Projector::LogStats() const {
  std::shared_lock lock(mutex_);
  return models_.log_stats.Stats();
}

std::string Projector::Exceptions(std::string_view status, const ListPage& page) const {
  std::shared_lock lock(mutex_);
  return models_.exceptions.List(status, page);
}

int64_t Projector::OpenExceptions() const {
  std::shared_lock lock(mutex_);
  return models_.exceptions.OpenCount();
}

std::vector<std::string> Projector::UnclosedBusinessDays() const {
  // The merchants with money outstanding, then their rows: read under the lock, parsed after.
  std::string all;
  {
    std::shared_lock lock(mutex_);
    all = models_.merchant_sales.OutstandingJson("");
  }
  simdjson::dom::parser parser;
  std::vector<std::string> merchants;
  Result<JsonObject> totals = ParseJsonObject(parser, all, "outstanding");
  Result<simdjson::dom::array> listed =
      totals.ok() ? totals->Array("merchants") : Result<simdjson::dom::array>(totals.status());
  if (listed.ok()) {
    for (simdjson::dom::element merchant : *listed) {
      std::string_view umkm_id;
      if (merchant["umkm_id"].get(umkm_id) == simdjson::SUCCESS) merchants.emplace_back(umkm_id);
    }
  }
  std::vector<std::string> rows;
  {
    std::shared_lock lock(mutex_);
    for (const std::string& umkm_id : merchants) {
      rows.push_back(models_.merchant_sales.OutstandingJson(umkm_id));
    }
  }
  std::set<std::string> days;
  for (const std::string& row : rows) {
    Result<JsonObject> object = ParseJsonObject(parser, row, "outstanding");
    if (!object.ok()) continue;
    Result<malpro::Outstanding> outstanding = malpro::Outstanding::Read(*object);
    if (!outstanding.ok()) continue;
    for (const auto& [date, day] : outstanding->days) {
      if (day.payments > 0) days.insert(date);
    }
  }
  return {days.begin(), days.end()};
}

std::string Projector::OrderList(const OrderListQuery& query) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.Orders(query);
}

std::string Projector::PaymentList(const PaymentListQuery& query) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.Payments(query);
}

std::string Projector::ReceiptList(const ReceiptListQuery& query) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.Receipts(query);
}

std::string Projector::SettlementBatches(const ListPage& page) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.SettlementBatches(page);
}

Result<std::string> Projector::SettlementBatch(CivilDate date) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.SettlementBatch(date);
}

Result<SettlementBatchFiles> Projector::SettlementFiles(CivilDate date) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.SettlementFiles(date);
}

std::string Projector::ReconciliationRuns(const ReconciliationListQuery& query) const {
  std::shared_lock lock(mutex_);
  return models_.work_lists.ReconciliationRuns(query);
}

// ---- Subscriptions. ----

std::vector<std::string> Projector::Names() const {
  std::vector<std::string> names;
  for (const Projection* projection : projections_) names.emplace_back(projection->name());
  return names;
}

ChangePage Projector::ChangesAfter(uint64_t position, const std::string& projection,
                                   size_t limit) const {
  ChangePage page;
  std::lock_guard lock(progress_mutex_);
  page.position = std::max(position, changes_floor_);
  if (position < changes_floor_) {
    page.reset = true;
    return page;
  }
  auto it = std::upper_bound(
      changes_.begin(), changes_.end(), position,
      [](uint64_t value, const ChangePage::Change& change) { return value < change.sequence; });
  for (; it != changes_.end(); ++it) {
    if (page.changes.size() >= limit && it->sequence != page.position) break;
    page.position = it->sequence;
    if (projection.empty() || it->row.projection == projection) page.changes.push_back(*it);
  }
  if (it == changes_.end()) page.position = std::max(page.position, applied_);
  return page;
}

std::pair<std::vector<RowChange>, uint64_t> Projector::Snapshot(
    const std::string& projection) const {
  std::vector<RowChange> rows;
  std::shared_lock lock(mutex_);
  for (const Projection* candidate : projections_) {
    if (!projection.empty() && candidate->name() != projection) continue;
    const std::string name(candidate->name());
    candidate->ForEachRow([&](const std::string& key, const std::string& json) {
      rows.push_back(RowChange{name, key, json});
    });
  }
  // Under the shared lock the rows are those of the last commit taken (taken_); changes
  // committed later carry later positions.
  return {std::move(rows), taken_};
}

}  // namespace malpro
