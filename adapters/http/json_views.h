// The JSON the API answers for the ledger's states: one function per state, each writing the
// fields docs/http-api.md lists, in that order. Only the HTTP adapter answers with them.
#pragma once

#include <string>

#include "engine/aggregates.h"

namespace malpro {

std::string AsnJson(const AsnState& asn);
// `with_private`: the NIB and the settlement account, which only the city's roles and the
// merchant itself may read.
std::string UmkmJson(const UmkmState& umkm, bool with_private);
std::string OrderJson(const OrderState& order);
std::string ReceiptJson(const ReceiptState& receipt);
std::string PolicyJson(const PolicyState& policy);
// `issued_json`: what the payer was given to pay with (QRIS content or virtual account), as
// the bank adapter wrote it; "" when unknown, and then left out.
std::string PaymentJson(const PaymentState& payment, const std::string& issued_json);
std::string ReconciliationJson(const ReconciliationState& state);

}  // namespace malpro
