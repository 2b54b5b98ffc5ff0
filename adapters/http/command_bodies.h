// The bodies of the ledger's commands, bound in one place for every way a command comes in:
// the HTTP routes (api_<resource>.cc) and the Kafka command intake (adapters/kafka/intake.h,
// docs/kafka-records.md). Each binder names the body's fields, their types and the error of
// each (body_* codes naming the field, from RequestBody), so that the same bytes mean the same
// command, and are refused with the same code, whichever way they come. The rules on values
// (identifiers, amounts, dates) are the ledger's, checked when the command is decided.
//
// A command acting on something that exists (an order, a UMKM) names it in the HTTP route's
// path, e.g. /v1/orders/{order_id}/cancel. A Kafka command has no path: the body carries the
// id as a required string field of the same name. The binders take the path's value, or
// nullopt to read it from the body (FromBody).
#pragma once

#include <optional>
#include <string>

#include "adapters/http/request_body.h"
#include "engine/ledger.h"
#include "engine/result.h"

namespace malpro {

class RequestBody;

// The id of the command's target: the path's value, or nullopt to read it from the body.
using PathId = std::optional<std::string>;
inline constexpr std::nullopt_t FromBody = std::nullopt;

// place_order, POST /v1/orders: order_id (optional; when given, not empty), buyer_nip, umkm_id,
// payment_method, lines of {product_id, quantity} and nothing else.
Result<PlaceOrder> BindPlaceOrder(RequestBody& body);

// register_asn, POST /v1/asn: nip, name, agency, rank_class, kelurahan.
Result<RegisterAsn> BindRegisterAsn(RequestBody& body);

// POST /v1/umkm: umkm_id (optional), name, nib (optional), category, kecamatan, kelurahan,
// sponsor, settlement_account, qris_criteria.
Result<RegisterUmkm> BindRegisterUmkm(RequestBody& body);

// list_product, POST /v1/umkm/{umkm_id}/products: product_id, name, unit, price (an amount).
Result<ListProduct> BindListProduct(RequestBody& body, const PathId& umkm_id);

struct CancelOrderBody {
  std::string order_id;
  std::string reason;
};
// cancel_order, POST /v1/orders/{order_id}/cancel: reason.
Result<CancelOrderBody> BindCancelOrder(RequestBody& body, const PathId& order_id);

// accept_order, deliver_order, confirm_cash_received: the order's id and nothing else. Their
// HTTP routes (POST /v1/orders/{order_id}/accept, ...) take the id from the path and read no
// body at all, so only the Kafka intake binds this.
Result<std::string> BindOrderTransition(RequestBody& body);

// POST /v1/receipts: receipt_id (optional), nip, shop_name, kelurahan, amount,
// purchase_date and photo_base64. The photo is left in base64 for DecodeReceiptPhoto, so that
// the caller may first check whose receipt it is.
struct ReceiptBody {
  SubmitReceipt command;  // photo still empty
  std::string photo_base64;
};
Result<ReceiptBody> BindSubmitReceipt(RequestBody& body);
// Decodes photo_base64 into command.photo; base64_invalid naming photo_base64.
Status DecodeReceiptPhoto(ReceiptBody& receipt);

}  // namespace malpro
