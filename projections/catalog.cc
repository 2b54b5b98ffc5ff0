// Catalog: one row per merchant ("m/{umkm_id}"), rewritten from the merchant's state whenever
// one of its events is folded.
#include <cctype>

#include "engine/error_codes.h"
#include "projections/read_models.h"

namespace malpro {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool Contains(std::string_view haystack, std::string_view lowered_needle) {
  return Lower(haystack).find(lowered_needle) != std::string::npos;
}

void WriteMerchant(JsonWriter& writer, const CatalogMerchant& merchant,
                   const std::vector<const CatalogProduct*>& products) {
  writer.BeginObject()
      .Field("umkm_id", merchant.umkm_id)
      .Field("name", merchant.name)
      .Field("category", merchant.category)
      .Field("kecamatan", merchant.kecamatan)
      .Field("kelurahan", merchant.kelurahan)
      .Field("status", merchant.status)
      .Field("qris_criteria", merchant.qris_criteria);
  writer.Key("products").BeginArray();
  for (const CatalogProduct* product : products) {
    writer.BeginObject()
        .Field("product_id", product->product_id)
        .Field("name", product->name)
        .Field("unit", product->unit)
        .Field("price", AmountText(product->price))
        .EndObject();
  }
  writer.EndArray().EndObject();
}

}  // namespace

void CatalogMerchant::Write(JsonWriter& writer) const {
  std::vector<const CatalogProduct*> all;
  for (const CatalogProduct& product : products) all.push_back(&product);
  WriteMerchant(writer, *this, all);
}

Result<CatalogMerchant> CatalogMerchant::Read(const JsonObject& object) {
  RowReader reader(object);
  CatalogMerchant merchant;
  merchant.umkm_id = reader.Text("umkm_id");
  merchant.name = reader.Text("name");
  merchant.category = reader.Text("category");
  merchant.kecamatan = reader.Text("kecamatan");
  merchant.kelurahan = reader.Text("kelurahan");
  merchant.status = reader.Text("status");
  merchant.qris_criteria = reader.Text("qris_criteria");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  Result<simdjson::dom::array> products = object.Array("products");
  if (!products.ok()) return products.status();
  for (simdjson::dom::element element : *products) {
    simdjson::dom::object item;
    if (element.get(item) != simdjson::SUCCESS) {
      return Status::Corruption("catalog row: products must hold objects");
    }
    JsonObject product_object(item, "products[].");
    RowReader product_reader(product_object);
    CatalogProduct product;
    product.product_id = product_reader.Text("product_id");
    product.name = product_reader.Text("name");
    product.unit = product_reader.Text("unit");
    product.price = product_reader.Amount("price");
    MALPRO_RETURN_IF_ERROR(product_reader.Finish());
    merchant.products.push_back(std::move(product));
  }
  return merchant;
}

Status CatalogProjection::Apply(const Fact& fact) {
  if (fact.kind != FactKind::kUmkmChanged) return Status::Ok();
  const UmkmState& umkm = *fact.umkm;
  CatalogMerchant& row = merchants_.Mutable(umkm.umkm_id);
  row.umkm_id = umkm.umkm_id;
  row.name = umkm.name;
  row.category = umkm.category;
  row.kecamatan = umkm.kecamatan;
  row.kelurahan = umkm.kelurahan;
  row.status = std::string(UmkmStatusName(umkm.status));
  row.qris_criteria = umkm.qris_criteria;
  row.products.clear();
  for (const auto& [id, product] : umkm.products) {
    if (!product.listed) continue;
    row.products.push_back(CatalogProduct{id, product.name, product.unit, product.price});
  }
  return Status::Ok();
}

std::string CatalogProjection::Query(const CatalogQuery& query) const {
  const std::string search = Lower(query.search);
  JsonWriter writer;
  writer.BeginObject().Key("merchants").BeginArray();
  size_t total = 0;
  for (const auto& [id, entry] : merchants_.entries()) {
    const CatalogMerchant& merchant = entry->row;
    if (entry->json.empty() || merchant.status != "verified") continue;
    if (!query.category.empty() && merchant.category != query.category) continue;
    if (!query.kecamatan.empty() && merchant.kecamatan != query.kecamatan) continue;
    std::vector<const CatalogProduct*> products;
    const bool name_matches = search.empty() || Contains(merchant.name, search);
    for (const CatalogProduct& product : merchant.products) {
      if (name_matches || Contains(product.name, search)) products.push_back(&product);
    }
    if (!name_matches && products.empty()) continue;
    ++total;
    if (total <= query.offset || total > query.offset + query.limit) continue;
    WriteMerchant(writer, merchant, products);
  }
  writer.EndArray()
      .Field("total", static_cast<int64_t>(total))
      .Field("offset", static_cast<int64_t>(query.offset))
      .Field("limit", static_cast<int64_t>(query.limit))
      .EndObject();
  return writer.Take();
}

Result<std::string> CatalogProjection::Merchant(const std::string& umkm_id) const {
  const std::string* json = merchants_.Json(umkm_id);
  if (json == nullptr) {
    return Status::NotFound(errc::kUmkmNotFound, "umkm_id", "no merchant '" + umkm_id + "'");
  }
  return *json;
}

}  // namespace malpro
