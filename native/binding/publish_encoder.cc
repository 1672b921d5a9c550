// PUBLISH without properties, the one packet the daemons generate at rate: topic and payload in,
// the frame written into a caller-provided pool Buffer (no per-call allocation on this side).
#include <cstring>
#include <string>

#include "binding.h"
#include "mqtt_packet.h"

namespace tedge::binding {
namespace {

// encodePublish(topic: string, payload: Uint8Array, flags: number, messageId: number, version: number,
//               pool: Uint8Array, poolOffset: number): number
// flags = qos << 1 | dup << 3 | retain. Returns the frame length written at poolOffset, -1 when the
// frame does not fit in the pool (call again with a bigger one), -2 when it cannot be encoded.
Napi::Value EncodePublish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 7 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
      !info[3].IsNumber() || !info[4].IsNumber() || !info[5].IsTypedArray() || !info[6].IsNumber()) {
    return ThrowTypeError(env, "encodePublish(topic, payload, flags, messageId, version, pool, poolOffset)");
  }
  Napi::TypedArray payload_ta = info[1].As<Napi::TypedArray>();
  Napi::TypedArray pool_ta = info[5].As<Napi::TypedArray>();
  if (payload_ta.TypedArrayType() != napi_uint8_array || pool_ta.TypedArrayType() != napi_uint8_array) {
    return ThrowTypeError(env, "payload and pool must be Buffers or Uint8Arrays");
  }
  char stack[512];
  size_t topic_len = 0;
  napi_value topic_v = info[0];
  napi_get_value_string_utf8(env, topic_v, nullptr, 0, &topic_len);
  std::string heap;
  char* topic = stack;
  if (topic_len + 1 > sizeof stack) {
    heap.resize(topic_len + 1);
    topic = &heap[0];
  }
  napi_get_value_string_utf8(env, topic_v, topic, topic_len + 1, &topic_len);
  Napi::Uint8Array payload = payload_ta.As<Napi::Uint8Array>();
  Napi::Uint8Array pool = pool_ta.As<Napi::Uint8Array>();
  uint32_t flags = info[2].As<Napi::Number>().Uint32Value();
  uint8_t qos = (flags >> 1) & 3;
  uint8_t version = static_cast<uint8_t>(info[4].As<Napi::Number>().Uint32Value());
  size_t size = mqtt::publish_frame_size(topic_len, payload.ElementLength(), qos, version);
  if (size == 0) return Napi::Number::New(env, -2);
  int64_t at = info[6].As<Napi::Number>().Int64Value();
  size_t cap = pool.ElementLength();
  if (at < 0 || static_cast<size_t>(at) > cap || cap - static_cast<size_t>(at) < size) return Napi::Number::New(env, -1);
  mqtt::write_publish(pool.Data() + at, reinterpret_cast<const uint8_t*>(topic), topic_len, payload.Data(),
                      payload.ElementLength(), qos, flags & 1, (flags & 8) != 0,
                      static_cast<uint16_t>(info[3].As<Napi::Number>().Uint32Value()), version);
  return Napi::Number::New(env, static_cast<double>(size));
}

}  // namespace

void InitPublishEncoder(Napi::Env env, Napi::Object exports) {
  exports.Set("encodePublish", Napi::Function::New(env, EncodePublish));
}

}  // namespace tedge::binding
