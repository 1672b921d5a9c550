// The Node-API surface of tedge_native. These are the only files that include <napi.h>; they check
// argument types, call native/core, and turn core status codes into return values or JS errors.
// The typed view of this surface is src/native/binding.ts.
#pragma once

#include <napi.h>

namespace tedge::binding {

void InitFrameParser(Napi::Env env, Napi::Object exports);
void InitConverter(Napi::Env env, Napi::Object exports);
void InitPublishEncoder(Napi::Env env, Napi::Object exports);
void InitResidentPages(Napi::Env env, Napi::Object exports);

/** Throws a TypeError with a `code` property (ERR_INVALID_ARG_TYPE) and returns undefined. */
Napi::Value ThrowTypeError(Napi::Env env, const char* message);

}  // namespace tedge::binding
