// The napi helpers the binding's files share (helpers.c), and the functions
// each file gives JavaScript.
#ifndef TUNSCOPE_BINDING_H
#define TUNSCOPE_BINDING_H
#define NAPI_VERSION 8
#include <node_api.h>

napi_value throw_error(napi_env env, const char *code, const char *message);
napi_value make_string(napi_env env, const char *text);
int set_string(napi_env env, napi_value object, const char *key, const char *text);
int set_number(napi_env env, napi_value object, const char *key, double number);
int set_bool(napi_env env, napi_value object, const char *key, int flag);

// devices.c
napi_value version(napi_env env, napi_callback_info info);
napi_value devices(napi_env env, napi_callback_info info);

#endif
