// Small napi helpers shared by the binding's files (binding.h).
#include "binding.h"

napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

napi_value make_string(napi_env env, const char *text) {
  napi_value value;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value) != napi_ok) return NULL;
  return value;
}

int set_string(napi_env env, napi_value object, const char *key, const char *text) {
  napi_value value = make_string(env, text);
  return value != NULL && napi_set_named_property(env, object, key, value) == napi_ok;
}

int set_number(napi_env env, napi_value object, const char *key, double number) {
  napi_value value;
  return napi_create_double(env, number, &value) == napi_ok &&
         napi_set_named_property(env, object, key, value) == napi_ok;
}

int set_bool(napi_env env, napi_value object, const char *key, int flag) {
  napi_value value;
  return napi_get_boolean(env, flag != 0, &value) == napi_ok &&
         napi_set_named_property(env, object, key, value) == napi_ok;
}
