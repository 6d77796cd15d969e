/* Embedding-bag kernels on tables kept in JS typed arrays (rows.c), registered by sid_native.c's init. */
#ifndef SID_ROWS_H
#define SID_ROWS_H

#include <node_api.h>

napi_value sid_bag_sum(napi_env env, napi_callback_info info);
napi_value sid_bag_accumulate(napi_env env, napi_callback_info info);
napi_value sid_sparse_adam(napi_env env, napi_callback_info info);

#endif
