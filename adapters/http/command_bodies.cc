#include "adapters/http/command_bodies.h"

#include <simdjson.h>

#include <string_view>
#include <vector>

#include "engine/error_codes.h"

namespace malpro {
namespace {

// Refuses fields other than `fields` and, when the body carries the target's id, `id_field`.
void AllowOnlyWithTarget(RequestBody& body, std::initializer_list<std::string_view> fields,
                         std::string_view id_field, const PathId& id) {
  std::vector<std::string_view> known(fields);
  if (!id) known.push_back(id_field);
  body.AllowOnly(known);
}

// The target's id: the path's, or the body's required string field `id_field`.
std::string TargetId(RequestBody& body, std::string_view id_field, const PathId& id) {
  return id ? *id : body.String(id_field);
}

}  // namespace

Result<PlaceOrder> BindPlaceOrder(RequestBody& body) {
  body.AllowOnly({"order_id", "buyer_nip", "umkm_id", "lines", "payment_method"});
  PlaceOrder order{body.OptionalString("order_id"),
                   body.String("buyer_nip"),
                   body.String("umkm_id"),
                   {},
                   body.String("payment_method")};
  simdjson::dom::array lines = body.Array("lines");
  if (!body.status().ok()) return body.status();
  if (order.order_id.empty() && body.Has("order_id")) {  // given, but empty: not "make one"
    return Status::InvalidArgument(errc::kIdInvalid, "order_id",
                                   "order_id, when given, must be 1-64 characters of a-z, 0-9 "
                                   "and -; leave it out to have one made");
  }
  size_t index = 0;
  for (simdjson::dom::element element : lines) {
    const std::string prefix = "lines[" + std::to_string(index++) + "]";
    simdjson::dom::object line;
    std::string_view product_id;
    int64_t quantity = 0;
    if (element.get(line) != simdjson::SUCCESS) {
      return Status::InvalidArgument(errc::kBodyFieldWrongType, prefix,
                                     prefix + " must be an object");
    }
    // Absent (or null) is a missing field; present with another type is a wrong type.
    for (const char* key : {"product_id", "quantity"}) {
      simdjson::dom::element value;
      if (line[key].get(value) != simdjson::SUCCESS || value.is_null()) {
        return Status::InvalidArgument(errc::kBodyFieldMissing, prefix + "." + key,
                                       prefix + "." + key + " is required");
      }
    }
    if (line["product_id"].get(product_id) != simdjson::SUCCESS) {
      return Status::InvalidArgument(errc::kBodyFieldWrongType, prefix + ".product_id",
                                     prefix + ".product_id must be a string");
    }
    if (line["quantity"].get(quantity) != simdjson::SUCCESS) {
      return Status::InvalidArgument(errc::kBodyFieldWrongType, prefix + ".quantity",
                                     prefix + ".quantity must be an integer");
    }
    if (line.size() != 2) {
      return Status::InvalidArgument(errc::kBodyFieldUnknown, prefix,
                                     prefix + " takes product_id and quantity only");
    }
    order.lines.push_back({std::string(product_id), quantity});
  }
  return order;
}

Result<RegisterAsn> BindRegisterAsn(RequestBody& body) {
  body.AllowOnly({"nip", "name", "agency", "rank_class", "kelurahan"});
  RegisterAsn command{body.String("nip"), body.String("name"), body.String("agency"),
                      body.String("rank_class"), body.String("kelurahan")};
  MALPRO_RETURN_IF_ERROR(body.status());
  return command;
}

Result<RegisterUmkm> BindRegisterUmkm(RequestBody& body) {
  body.AllowOnly({"umkm_id", "name", "nib", "category", "kecamatan", "kelurahan", "sponsor",
                  "settlement_account", "qris_criteria"});
  RegisterUmkm command{body.OptionalString("umkm_id"), body.String("name"),
                       body.OptionalString("nib"),     body.String("category"),
                       body.String("kecamatan"),       body.String("kelurahan"),
                       body.String("sponsor"),         body.String("settlement_account"),
                       body.String("qris_criteria")};
  MALPRO_RETURN_IF_ERROR(body.status());
  return command;
}

Result<ListProduct> BindListProduct(RequestBody& body, const PathId& umkm_id) {
  AllowOnlyWithTarget(body, {"product_id", "name", "unit", "price"}, "umkm_id", umkm_id);
  // Braces: the fields are read, and their errors met, in the order written.
  ListProduct command{TargetId(body, "umkm_id", umkm_id), body.String("product_id"),
                      body.String("name"), body.String("unit"), body.Amount("price")};
  MALPRO_RETURN_IF_ERROR(body.status());
  return command;
}

Result<CancelOrderBody> BindCancelOrder(RequestBody& body, const PathId& order_id) {
  AllowOnlyWithTarget(body, {"reason"}, "order_id", order_id);
  CancelOrderBody command{TargetId(body, "order_id", order_id), body.String("reason")};
  MALPRO_RETURN_IF_ERROR(body.status());
  return command;
}

Result<std::string> BindOrderTransition(RequestBody& body) {
  body.AllowOnly({"order_id"});
  std::string order_id = body.String("order_id");
  MALPRO_RETURN_IF_ERROR(body.status());
  return order_id;
}

Result<ReceiptBody> BindSubmitReceipt(RequestBody& body) {
  body.AllowOnly(
      {"receipt_id", "nip", "shop_name", "kelurahan", "amount", "purchase_date", "photo_base64"});
  ReceiptBody receipt{SubmitReceipt{body.OptionalString("receipt_id"), body.String("nip"),
                                    body.String("shop_name"), body.String("kelurahan"),
                                    body.Amount("amount"), body.String("purchase_date"), ""},
                      body.String("photo_base64")};
  MALPRO_RETURN_IF_ERROR(body.status());
  return receipt;
}

Status DecodeReceiptPhoto(ReceiptBody& receipt) {
  Result<std::string> bytes = DecodeBase64(receipt.photo_base64, "photo_base64");
  if (!bytes.ok()) return bytes.status();
  receipt.command.photo = std::move(bytes).value();
  return Status::Ok();
}

}  // namespace malpro
