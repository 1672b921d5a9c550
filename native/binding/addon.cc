#include "binding.h"

namespace tedge::binding {

Napi::Value ThrowTypeError(Napi::Env env, const char* message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace tedge::binding

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tedge::binding::InitFrameParser(env, exports);
  tedge::binding::InitConverter(env, exports);
  tedge::binding::InitPublishEncoder(env, exports);
  tedge::binding::InitResidentPages(env, exports);
  // Bumped whenever the surface in src/native/binding.ts changes; the loader refuses other values.
  exports.Set("abiVersion", Napi::Number::New(env, 1));
#if defined(__aarch64__)
  exports.Set("arch", Napi::String::New(env, "arm64"));
#elif defined(__arm__)
  exports.Set("arch", Napi::String::New(env, "arm"));
#elif defined(__x86_64__)
  exports.Set("arch", Napi::String::New(env, "x64"));
#else
  exports.Set("arch", Napi::String::New(env, "unknown"));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(tedge_native, Init)
