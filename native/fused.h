/* Fused element-wise kernels of a training step (fused.c), registered by sid_native.c's init. */
#ifndef SID_FUSED_H
#define SID_FUSED_H

#include <node_api.h>

napi_value sid_gelu_gate(napi_env env, napi_callback_info info);
napi_value sid_gelu_gate_grad(napi_env env, napi_callback_info info);
napi_value sid_rms_norm(napi_env env, napi_callback_info info);
napi_value sid_rms_norm_grad(napi_env env, napi_callback_info info);
napi_value sid_adamw(napi_env env, napi_callback_info info);
napi_value sid_softmax_xent(napi_env env, napi_callback_info info);
napi_value sid_softmax_xent_grad(napi_env env, napi_callback_info info);
napi_value sid_log_softmax(napi_env env, napi_callback_info info);

#endif
