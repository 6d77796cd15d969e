/* Block copies on the wasm heap (copy.c), registered by sid_native.c's init. */
#ifndef SID_COPY_H
#define SID_COPY_H

#include <node_api.h>

napi_value sid_gather_blocks(napi_env env, napi_callback_info info);
napi_value sid_concat_blocks(napi_env env, napi_callback_info info);

#endif
