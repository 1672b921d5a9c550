// releaseResidentPages(advice: 'pageout' | 'cold', trimMalloc: boolean)
//   → { mappings, bytes, error, trimmed }: see native/core/resident_pages.h.
// trimMalloc also returns the free memory of glibc's malloc arenas to the kernel (malloc_trim(0)).
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "binding.h"
#include "resident_pages.h"

namespace tedge::binding {
namespace {

Napi::Value ReleaseResidentPages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBoolean()) {
    return ThrowTypeError(env, "releaseResidentPages(advice: 'pageout' | 'cold', trimMalloc: boolean)");
  }
  std::string advice = info[0].As<Napi::String>().Utf8Value();
  if (advice != "pageout" && advice != "cold") return ThrowTypeError(env, "advice must be 'pageout' or 'cold'");
  PageAdviceResult r = advise_own_clean_file_mappings(advice == "pageout" ? PageAdvice::Pageout : PageAdvice::Cold);
  bool trimmed = false;
#if defined(__GLIBC__)
  if (info[1].As<Napi::Boolean>().Value()) trimmed = malloc_trim(0) != 0;
#endif
  Napi::Object out = Napi::Object::New(env);
  out.Set("mappings", Napi::Number::New(env, static_cast<double>(r.mappings)));
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(r.bytes)));
  out.Set("error", Napi::Number::New(env, r.error));
  out.Set("trimmed", Napi::Boolean::New(env, trimmed));
  return out;
}

}  // namespace

void InitResidentPages(Napi::Env env, Napi::Object exports) {
  exports.Set("releaseResidentPages", Napi::Function::New(env, ReleaseResidentPages, "releaseResidentPages"));
}

}  // namespace tedge::binding
