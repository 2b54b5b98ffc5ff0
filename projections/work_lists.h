// Work lists (read model `work_lists`, docs/projections.md "Work lists"): orders, payments,
// manual receipts, settlement batches and reconciliation runs, each a row, listed page by page
// in time order with a cursor.
//
// Every row has a place in its list that never moves: the recorded time and sequence of the
// event that created it (a settlement batch: its business date). Recorded times never go back
// and sequences only grow, so a row created later always stands after every row already
// there, and a cursor (the place of the last row answered) pages on without skipping or
// repeating a row while new ones arrive.
//
// A filtered page is a lower_bound and a short walk: besides the rows, the read model keeps in
// memory, per list, the places of its rows under each value of the filters it serves ("rows of
// this merchant", "of this merchant with this status"). These indexes follow the rows as
// committed (they are refiled when a commit takes the changed rows, and when rows are
// loaded), so a page never shows a row under a status its JSON does not have.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "projections/projection.h"

namespace malpro {

// At most this many rows are looked at to answer one page; a page whose filter matched few of
// them holds fewer rows than asked and a `next` to go on from (bounds a request's work).
inline constexpr size_t list_walk_rows_max = 20'000;
// A row is filed under at most this many filter values (its "terms").
inline constexpr size_t list_terms_max = 8;
// Open discrepancies kept per reconciliation run: a run lists at most 200
// (docs/domain-events.md, reconciliation.completed).
inline constexpr size_t list_run_discrepancies_max = 200;

// The place of a row in its list.
struct ListPosition {
  int64_t at_us = 0;  // recorded time of the creating event; a batch: its day number
  uint64_t sequence = 0;
  auto operator<=>(const ListPosition&) const = default;
};

// Which page: the rows after `after` (exclusive) in the order asked, at most `limit`.
struct ListPage {
  std::optional<ListPosition> after;
  bool newest_first = false;
  size_t limit = 50;
};

// The lists, by the letter their cursors carry.
inline constexpr char list_orders = 'o';
inline constexpr char list_payments = 'p';
inline constexpr char list_receipts = 'r';
inline constexpr char list_settlement = 's';
inline constexpr char list_reconciliation = 'c';
inline constexpr char list_exceptions = 'x';  // read model `exceptions`

// "o-1732000000000000-61392": the list's letter, the place's time and sequence. Opaque to
// clients; only the list that made it takes it back.
std::string CursorText(char list, ListPosition position);
// InvalidArgument query_cursor_invalid naming "cursor" when `text` is not a cursor of `list`.
Result<ListPosition> ParseCursor(std::string_view text, char list);

// ---- Rows. --------------------------------------------------------------------------------

struct OrderListRow {
  std::string order_id;
  std::string buyer_nip;
  std::string umkm_id;
  std::string payment_method;  // COD or CASHLESS
  Money total;
  std::string status;  // placed, accepted, delivered, cancelled
  bool cash_received = false;
  std::string payment_status;  // "" without a payment, else the payment's status
  int64_t placed_at_us = 0;
  int64_t updated_at_us = 0;  // recorded time of the order's or its payment's last event
  int64_t sequence = 0;       // of order.placed
  void Write(JsonWriter& writer) const;
  static Result<OrderListRow> Read(const JsonObject& object);
};

struct PaymentListRow {
  std::string payment_id;
  std::string order_id;
  std::string buyer_nip;
  std::string umkm_id;
  std::string channel;
  Money amount;
  std::string bank_reference;
  std::string status;    // requested, succeeded, failed, expired, refunded, voided, refund_due
  int64_t requests = 0;  // payment.requested events
  int64_t first_requested_at_us = 0;
  int64_t requested_at_us = 0;  // of the latest payment.requested
  int64_t expires_at_us = 0;    // 0 when not recorded
  int64_t paid_at_us = 0;       // 0 until paid
  std::string business_date;    // "" until paid
  Money refunded;
  int64_t updated_at_us = 0;
  int64_t sequence = 0;  // of the first payment.requested
  void Write(JsonWriter& writer) const;
  static Result<PaymentListRow> Read(const JsonObject& object);
};

struct ReceiptListRow {
  ReceiptState receipt;  // as of its latest event (its version is not kept)
  int64_t submitted_at_us = 0;
  int64_t decided_at_us = 0;  // 0 while submitted
  int64_t sequence = 0;       // of receipt.submitted
  void Write(JsonWriter& writer) const;
  static Result<ReceiptListRow> Read(const JsonObject& object);
};

struct SettlementBatchRow {
  std::string business_date;
  int64_t closed_at_us = 0;
  int64_t sequence = 0;  // of settlement.batch_closed
  std::vector<MerchantSettlement> merchants;
  int64_t payments = 0;
  Money total_gross;
  Money total_fee;
  Money total_refunds;
  Money total_net;           // as recorded
  std::string pain001_file;  // "" when the day paid nothing
  std::string pain001_sha256;
  std::string csv_file;
  std::string csv_sha256;
  // The totals and files, without the merchants (the list's entry).
  void WriteSummary(JsonWriter& writer) const;
  void Write(JsonWriter& writer) const;
  static Result<SettlementBatchRow> Read(const JsonObject& object);
};

// A discrepancy of a run that no resolution covers yet.
struct OpenDiscrepancy {
  int64_t index = 0;
  std::string kind;
  std::string reference;
  std::string payment_id;
};

struct ReconciliationRunRow {
  std::string statement_id;
  int64_t run = 0;
  std::string format;
  std::string account;
  std::string period_from;
  std::string period_to;
  std::string statement_sha256;
  int64_t entries = 0;
  int64_t matched = 0;
  int64_t missing_in_ledger = 0;
  int64_t missing_at_bank = 0;
  int64_t amount_mismatch = 0;
  int64_t refund_due = 0;
  bool discrepancies_truncated = false;
  int64_t resolved = 0;  // discrepancies listed in the run that a resolution covers
  bool latest = true;    // no later run of the statement was folded
  int64_t completed_at_us = 0;
  int64_t sequence = 0;               // of reconciliation.completed
  std::vector<OpenDiscrepancy> open;  // the listed ones not resolved, by index
  int64_t Discrepancies() const;      // every kind, listed or not
  int64_t Unresolved() const { return Discrepancies() - resolved; }
  void Write(JsonWriter& writer) const;
  static Result<ReconciliationRunRow> Read(const JsonObject& object);
};

// The resolutions of one statement, kept by kind and reference across its runs (so that a
// later run knows what is resolved already), and its latest run.
struct StatementResolutions {
  std::string statement_id;
  int64_t latest_run = 0;
  std::map<std::string, std::string> resolutions;  // "kind|reference" -> resolution
  void Write(JsonWriter& writer) const;
  static Result<StatementResolutions> Read(const JsonObject& object);
};

// ---- Index. -------------------------------------------------------------------------------

// The places of one list's rows, in order, under each term (a filter value such as
// "m:warung-bu-sri|s:placed"; "" holds every row). Threading: as the read model's rows.
template <typename Row>
class ListIndex {
 public:
  using Handle = typename RowTable<Row>::Handle;
  struct Item {
    Handle handle = nullptr;
    int64_t since_us = 0;  // the list's own figure (payments: pending since), as committed
  };
  using Items = std::map<ListPosition, Item>;
  // Inclusive bounds of the places a page may hold.
  struct Range {
    ListPosition lowest{std::numeric_limits<int64_t>::min(), 0};
    ListPosition highest{std::numeric_limits<int64_t>::max(), std::numeric_limits<uint64_t>::max()};
  };

  ListIndex() { Intern(""); }

  // Files the row of `handle` at `position` under "" and `terms` (at most list_terms_max - 1),
  // and under no other term. Refiling a row under the terms it already has, with the same
  // figure, changes nothing and costs no map operation (a row's refiles mostly are such).
  void File(ListPosition position, Handle handle, std::initializer_list<std::string_view> terms,
            int64_t since_us = 0) {
    MALPRO_ASSERT(terms.size() < list_terms_max);
    Filed& filed = AtPlace(filed_, position);
    std::array<uint32_t, list_terms_max> ids{};
    size_t count = 0;
    ids[count++] = 0;
    for (std::string_view term : terms) ids[count++] = Intern(term);
    if (filed.term_count == count && filed.handle == handle && filed.since_us == since_us &&
        std::equal(ids.begin(), ids.begin() + count, filed.terms.begin())) {
      return;
    }
    for (size_t i = 0; i < filed.term_count; ++i) {
      if (std::find(ids.begin(), ids.begin() + count, filed.terms[i]) == ids.begin() + count) {
        by_term_[filed.terms[i]].erase(position);
      }
    }
    for (size_t i = 0; i < count; ++i) AtPlace(by_term_[ids[i]], position) = Item{handle, since_us};
    filed.terms = ids;
    filed.term_count = static_cast<uint8_t>(count);
    filed.handle = handle;
    filed.since_us = since_us;
  }

  // Walks the rows under `term` within `range`, from after `page.after` in the page's order,
  // looking at no more than list_walk_rows_max. `matches(item)` says whether a row belongs to
  // the page; `emit(item)` takes each of the first `page.limit` that do. Returns where the next
  // page starts: the last row emitted when another matching row follows, the last row looked
  // at when the walk stopped at its bound, nullopt at the end of the list.
  template <typename Matches, typename Emit>
  std::optional<ListPosition> Walk(const std::string& term, const Range& range,
                                   const ListPage& page, Matches matches, Emit emit) const {
    auto id = term_ids_.find(term);
    if (id == term_ids_.end()) return std::nullopt;
    const Items& items = by_term_[id->second];
    size_t emitted = 0;
    size_t looked = 0;
    std::optional<ListPosition> last_emitted;
    std::optional<ListPosition> last_looked;
    // Returns true to stop, with where the next page starts.
    auto visit = [&](typename Items::const_iterator it, std::optional<ListPosition>* next) {
      if (looked++ == list_walk_rows_max) {
        *next = last_looked;
        return true;
      }
      last_looked = it->first;
      if (!matches(it->second)) return false;
      if (emitted == page.limit) {
        *next = last_emitted;
        return true;
      }
      emit(it->second);
      ++emitted;
      last_emitted = it->first;
      return false;
    };
    std::optional<ListPosition> next;
    if (!page.newest_first) {
      auto it = page.after && *page.after >= range.lowest ? items.upper_bound(*page.after)
                                                          : items.lower_bound(range.lowest);
      for (; it != items.end() && it->first <= range.highest; ++it) {
        if (visit(it, &next)) return next;
      }
      return std::nullopt;
    }
    auto it = page.after && *page.after <= range.highest ? items.lower_bound(*page.after)
                                                         : items.upper_bound(range.highest);
    while (it != items.begin()) {
      --it;
      if (it->first < range.lowest) break;
      if (visit(it, &next)) return next;
    }
    return std::nullopt;
  }

 private:
  struct Filed {
    std::array<uint32_t, list_terms_max> terms{};
    uint8_t term_count = 0;  // 0 until filed
    Handle handle = nullptr;
    int64_t since_us = 0;
  };
  // Terms are looked up by view: filing a row allocates nothing for a term already known.
  struct TermHash {
    using is_transparent = void;
    size_t operator()(std::string_view term) const { return std::hash<std::string_view>{}(term); }
  };
  // The entry at `position`, created when missing. New rows nearly always come last in time
  // order, so the end is tried first: filing them costs no search of the whole map.
  template <typename Value>
  static Value& AtPlace(std::map<ListPosition, Value>& places, const ListPosition& position) {
    if (places.empty() || places.rbegin()->first < position) {
      return places.emplace_hint(places.end(), position, Value{})->second;
    }
    return places[position];
  }
  uint32_t Intern(std::string_view term) {
    if (auto known = term_ids_.find(term); known != term_ids_.end()) return known->second;
    const auto id = static_cast<uint32_t>(by_term_.size());
    term_ids_.emplace(std::string(term), id);
    by_term_.emplace_back();
    return id;
  }

  std::map<ListPosition, Filed> filed_;  // the terms each place is filed under
  std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>> term_ids_;
  std::vector<Items> by_term_;  // by term id; 0 is "" (every row)
};

// ---- Queries. -----------------------------------------------------------------------------

struct OrderListQuery {
  std::string buyer_nip;  // each filter: empty for any
  std::string umkm_id;
  std::string status;
  std::optional<CivilDate> from;  // Jakarta date placed, inclusive
  std::optional<CivilDate> to;
  ListPage page;
};

struct PaymentListQuery {
  std::string buyer_nip;
  std::string umkm_id;
  std::string status;
  std::string channel;
  // Pending payments requested at least this long before `now_us` only.
  std::optional<int64_t> older_than_s;
  int64_t now_us = 0;  // the caller's clock: ages are computed against it
  ListPage page;
};

struct ReceiptListQuery {
  std::string nip;
  std::string status;
  std::string kelurahan;
  ListPage page;
};

struct ReconciliationListQuery {
  std::string statement_id;
  bool open_only = false;  // the latest run of each statement, when it has unresolved ones
  ListPage page;
};

// What GET /v1/settlement/{date}/files/{name} may serve: the names and hashes recorded.
struct SettlementBatchFiles {
  std::string pain001_file;  // "" when the day paid nothing
  std::string pain001_sha256;
  std::string csv_file;
  std::string csv_sha256;
};

class WorkListsProjection final : public Projection {
 public:
  std::string_view name() const override { return "work_lists"; }
  int version() const override { return 1; }
  Status Apply(const Fact& fact) override;
  void TakeChanges(std::vector<RowWrite>* out) override;
  Status LoadRow(std::string_view key, std::string_view json) override;
  void ForEachRow(const std::function<void(const std::string& key, const std::string& json)>& visit)
      const override;

  // {"orders":[...],"next":cursor or null,"limit":N}
  std::string Orders(const OrderListQuery& query) const;
  // {"payments":[... each with "age_s"],"next","limit","now_us"}
  std::string Payments(const PaymentListQuery& query) const;
  std::string Receipts(const ReceiptListQuery& query) const;
  // {"batches":[summaries],"next","limit"}, by business date.
  std::string SettlementBatches(const ListPage& page) const;
  // One batch with its merchants; NotFound settlement_not_found.
  Result<std::string> SettlementBatch(CivilDate date) const;
  Result<SettlementBatchFiles> SettlementFiles(CivilDate date) const;
  std::string ReconciliationRuns(const ReconciliationListQuery& query) const;

 private:
  Status ApplyOrder(const Fact& fact);
  Status ApplyPayment(const Fact& fact);
  Status ApplyReceipt(const Fact& fact);
  Status ApplySettlement(const Fact& fact);
  Status ApplyRun(const Fact& fact);
  Status ApplyResolution(const Fact& fact);
  // Files a row again as it was just committed or loaded (by its key, without the prefix).
  void RefileOrder(const std::string& key);
  void RefilePayment(const std::string& key);
  void RefileReceipt(const std::string& key);
  void RefileBatch(const std::string& key);
  void RefileRun(const std::string& key);

  RowTable<ReconciliationRunRow> runs_{"c/"};        // key: statement_id/run (6 digits)
  RowTable<OrderListRow> orders_{"o/"};              // key: order_id
  RowTable<PaymentListRow> payments_{"p/"};          // key: payment_id
  RowTable<ReceiptListRow> receipts_{"r/"};          // key: receipt_id
  RowTable<SettlementBatchRow> batches_{"s/"};       // key: YYYY-MM-DD
  RowTable<StatementResolutions> statements_{"t/"};  // key: statement_id

  // Scratch for the terms a row is filed under (filing runs on the fold's one thread).
  std::array<std::string, list_terms_max> term_texts_;
  ListIndex<ReconciliationRunRow> run_index_;
  ListIndex<OrderListRow> order_index_;
  ListIndex<PaymentListRow> payment_index_;
  ListIndex<ReceiptListRow> receipt_index_;
  ListIndex<SettlementBatchRow> batch_index_;
};

}  // namespace malpro
