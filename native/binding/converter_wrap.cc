// Thin Edge JSON → Cumulocity JSON. A context (type, external source, units, all pre-serialized by
// JSON.stringify on the TS side) is created once per topic/entity and reused for every payload.
#include <memory>
#include <string>

#include "binding.h"
#include "measurement_c8y.h"

namespace tedge::binding {
namespace {

struct ConverterState {
  MeasurementConverter converter;
  std::string out;
  std::string error;
};

ConverterState& state(Napi::Env env) {
  auto* s = env.GetInstanceData<ConverterState>();
  if (!s) {
    s = new ConverterState();
    env.SetInstanceData(s);  // deleted by Node when the environment goes away
  }
  return *s;
}

std::string utf8(const Napi::Value& v) { return v.As<Napi::String>().Utf8Value(); }

// createConverterContext(defaultTypeJson: string, externalSourceJson: string, units: string[] (key, unitJson, ...))
Napi::Value CreateContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsArray()) {
    return ThrowTypeError(env, "createConverterContext(defaultTypeJson: string, externalSourceJson: string, units: string[])");
  }
  auto ctx = std::make_unique<C8yContext>();
  ctx->default_type_json = utf8(info[0]);
  ctx->external_source_json = utf8(info[1]);
  Napi::Array units = info[2].As<Napi::Array>();
  uint32_t n = units.Length();
  for (uint32_t i = 0; i + 1 < n; i += 2) {
    Napi::Value k = units.Get(i), u = units.Get(i + 1);
    if (!k.IsString() || !u.IsString()) return ThrowTypeError(env, "units must alternate key and unit JSON strings");
    ctx->units.set(utf8(k), utf8(u));
  }
  return Napi::External<C8yContext>::New(env, ctx.release(), [](Napi::Env, C8yContext* c) { delete c; });
}

const C8yContext* context_of(const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  return v.As<Napi::External<C8yContext>>().Data();
}

// convertMeasurement(ctx, payload: Uint8Array, nowMs: number, pool: Buffer, poolOffset: number): number
//  >= 0: the output's length, written into pool at poolOffset
//  -1 invalid (lastConvertError() has the message), -2 syntax, -3 fallback,
//  -4 the output did not fit in the pool (takeConvertOutput() returns it)
Napi::Value Convert(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const C8yContext* ctx = info.Length() >= 5 ? context_of(info[0]) : nullptr;
  if (!ctx || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsTypedArray() || !info[4].IsNumber()) {
    return ThrowTypeError(env, "convertMeasurement(ctx, payload: Uint8Array, nowMs: number, pool: Uint8Array, poolOffset: number)");
  }
  Napi::TypedArray payload_ta = info[1].As<Napi::TypedArray>();
  Napi::TypedArray pool_ta = info[3].As<Napi::TypedArray>();
  if (payload_ta.TypedArrayType() != napi_uint8_array || pool_ta.TypedArrayType() != napi_uint8_array) {
    return ThrowTypeError(env, "payload and pool must be Buffers or Uint8Arrays");
  }
  Napi::Uint8Array payload = payload_ta.As<Napi::Uint8Array>();
  Napi::Uint8Array pool = pool_ta.As<Napi::Uint8Array>();
  ConverterState& s = state(env);
  ConvertStatus status = s.converter.convert(payload.Data(), payload.ElementLength(), *ctx,
                                             info[2].As<Napi::Number>().DoubleValue(), s.out, s.error);
  switch (status) {
    case ConvertStatus::Invalid: return Napi::Number::New(env, -1);
    case ConvertStatus::Syntax: return Napi::Number::New(env, -2);
    case ConvertStatus::Fallback: return Napi::Number::New(env, -3);
    case ConvertStatus::Ok: break;
  }
  int64_t at = info[4].As<Napi::Number>().Int64Value();
  size_t cap = pool.ElementLength();
  if (at < 0 || static_cast<size_t>(at) > cap || cap - static_cast<size_t>(at) < s.out.size()) {
    return Napi::Number::New(env, -4);
  }
  std::memcpy(pool.Data() + at, s.out.data(), s.out.size());
  return Napi::Number::New(env, static_cast<double>(s.out.size()));
}

Napi::Value LastError(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), state(info.Env()).error);
}

Napi::Value TakeOutput(const Napi::CallbackInfo& info) {
  const std::string& out = state(info.Env()).out;
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(out.data()), out.size());
}

// convertMeasurementBatch(ctxs: External[] | External, payloads: Uint8Array[], nowMs: number, index: Int32Array):
// Buffer with all outputs back to back; index[2i] = status (0 ok, 1 invalid, 2 syntax, 3 fallback),
// index[2i+1] = end offset of output i. Returns [buffer, errors] where errors[i] is the message of an invalid one.
Napi::Value ConvertBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[1].IsArray() || !info[2].IsNumber() || !info[3].IsTypedArray()) {
    return ThrowTypeError(env, "convertMeasurementBatch(ctx | ctx[], payloads: Uint8Array[], nowMs: number, index: Int32Array)");
  }
  Napi::Array payloads = info[1].As<Napi::Array>();
  uint32_t n = payloads.Length();
  Napi::TypedArray index_ta = info[3].As<Napi::TypedArray>();
  if (index_ta.TypedArrayType() != napi_int32_array || index_ta.ElementLength() < 2 * static_cast<size_t>(n)) {
    return ThrowTypeError(env, "index must be an Int32Array of 2 * payloads.length");
  }
  int32_t* index = index_ta.As<Napi::Int32Array>().Data();
  const C8yContext* single = context_of(info[0]);
  Napi::Array ctxs = !single && info[0].IsArray() ? info[0].As<Napi::Array>() : Napi::Array();
  if (!single && (!info[0].IsArray() || ctxs.Length() < n)) return ThrowTypeError(env, "ctx must be a context or an array of them");
  double now = info[2].As<Napi::Number>().DoubleValue();
  ConverterState& s = state(env);
  std::string all;
  Napi::Array errors = Napi::Array::New(env);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value pv = payloads.Get(i);
    const C8yContext* ctx = single ? single : context_of(ctxs.Get(i));
    if (!ctx || !pv.IsTypedArray() || pv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return ThrowTypeError(env, "payloads must be Uint8Arrays, with a context each");
    }
    Napi::Uint8Array p = pv.As<Napi::Uint8Array>();
    ConvertStatus st = s.converter.convert(p.Data(), p.ElementLength(), *ctx, now, s.out, s.error);
    if (st == ConvertStatus::Ok) all += s.out;
    if (st == ConvertStatus::Invalid) errors.Set(i, Napi::String::New(env, s.error));
    index[2 * i] = static_cast<int32_t>(st);
    index[2 * i + 1] = static_cast<int32_t>(all.size());
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(all.data()), all.size()));
  result.Set(1u, errors);
  return result;
}

}  // namespace

void InitConverter(Napi::Env env, Napi::Object exports) {
  exports.Set("createConverterContext", Napi::Function::New(env, CreateContext));
  exports.Set("convertMeasurement", Napi::Function::New(env, Convert));
  exports.Set("lastConvertError", Napi::Function::New(env, LastError));
  exports.Set("takeConvertOutput", Napi::Function::New(env, TakeOutput));
  exports.Set("convertMeasurementBatch", Napi::Function::New(env, ConvertBatch));
}

}  // namespace tedge::binding
