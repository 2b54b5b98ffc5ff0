// Log statistics for auditors: events per type ("t/{type}") and the head as folded ("h/head").
#include "projections/read_models.h"

namespace malpro {

void TypeCount::Write(JsonWriter& writer) const {
  writer.BeginObject().Field("type", type).Field("events", events).EndObject();
}

Result<TypeCount> TypeCount::Read(const JsonObject& object) {
  RowReader reader(object);
  TypeCount count{reader.Text("type"), reader.Int("events")};
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return count;
}

void LogHead::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("events", events)
      .Field("last_sequence", last_sequence)
      .Field("head_hash", events == 0 ? std::string() : HashToHex(head_hash))
      .Field("first_recorded_at_us", first_recorded_at_us)
      .Field("last_recorded_at_us", last_recorded_at_us)
      .EndObject();
}

Result<LogHead> LogHead::Read(const JsonObject& object) {
  RowReader reader(object);
  LogHead head;
  head.events = reader.Int("events");
  head.last_sequence = reader.Int("last_sequence");
  const std::string hash = reader.Text("head_hash");
  head.first_recorded_at_us = reader.Int("first_recorded_at_us");
  head.last_recorded_at_us = reader.Int("last_recorded_at_us");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  if (head.events > 0 && !HashFromHex(hash, &head.head_hash)) {
    return Status::Corruption("log stats: head_hash is not 64 hex digits");
  }
  return head;
}

Status LogStatsProjection::Apply(const Fact& fact) {
  const Event& event = *fact.event;
  bool created = false;
  TypeCount& count = types_.Mutable(event.type, &created);
  if (created) count.type = event.type;
  ++count.events;
  if (head_row_ == nullptr) head_row_ = head_.Get("head");
  LogHead& head = head_.Touch(head_row_);
  if (head.events == 0) head.first_recorded_at_us = event.recorded_at_us;
  ++head.events;
  head.last_sequence = static_cast<int64_t>(event.sequence);
  head.head_hash = event.hash;
  head.last_recorded_at_us = event.recorded_at_us;
  return Status::Ok();
}

int64_t LogStatsProjection::Events() const {
  const LogHead* head = head_.Find("head");
  return head == nullptr ? 0 : head->events;
}

std::string LogStatsProjection::Stats() const {
  LogHead head;
  if (const LogHead* found = head_.Find("head")) head = *found;
  JsonWriter writer;
  writer.BeginObject()
      .Field("events", head.events)
      .Field("last_sequence", head.last_sequence)
      .Field("head_hash", head.events == 0 ? std::string() : HashToHex(head.head_hash))
      .Field("first_recorded_at_us", head.first_recorded_at_us)
      .Field("last_recorded_at_us", head.last_recorded_at_us);
  writer.Key("types").BeginArray();
  for (const auto& [type, entry] : types_.entries()) {
    writer.BeginObject().Field("type", type).Field("events", entry->row.events).EndObject();
  }
  writer.EndArray().EndObject();
  return writer.Take();
}

}  // namespace malpro
