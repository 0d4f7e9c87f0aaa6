// tunscope's binding to libpcap, for live capture (src/sources/live.ts).
//
// It gives JavaScript what a capture tool needs and nothing more:
//   version()                         the libpcap version string
//   devices()                         pcap_findalldevs: names, descriptions, flags, addresses
//   open(device, options)             pcap_create + settings + pcap_activate, inside
//                                     the network namespace options.netns names (netns.c)
//                                     and for the packets of options.direction ('in', 'out'):
//                                     { handle, linktype, nano, warning }
//   setFilter(handle, expr, kernel?)  pcap_compile + pcap_setfilter; a program for the kernel alone
//   start(handle, buffer, callback)   read packets as they arrive, in batches
//   stats(handle)                     pcap_stats: { received, dropped, ifdropped }
//   close(handle)                     stop reading and pcap_close
//
// Packets are read on the main thread, without blocking it: the capture's
// selectable descriptor is watched by libuv, and when it is readable every
// packet waiting in the kernel's ring is copied into `buffer` (as many as fit)
// and handed over with one call, callback(count, bytes). Each packet in the
// batch is a 20-byte header of little-endian 32-bit words (seconds low,
// seconds high, fraction in micro- or nanoseconds, captured length, original
// length) followed by the captured bytes, padded to a multiple of 4.
// A read error is handed over as callback(error).

#include "binding.h"
#include <uv.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "netns.h"
#include <linux/filter.h>

#define HEADER_BYTES 20
// Dispatches in one readable event before the event loop gets a turn again.
#define MAX_DISPATCHES 4

typedef struct {
  pcap_t *pcap;
  napi_env env;
  uv_poll_t poll;
  int polling;       // uv_poll started and not yet closed
  napi_ref self;     // keeps the handle alive while polling
  napi_ref callback;
  napi_ref buffer;
  uint8_t *data;
  size_t capacity;
  size_t used;
  uint32_t count;
  int full;          // the last dispatch stopped because the buffer was full
  napi_async_context async;
} Capture;

#define CHECK(call)                                                                        \
  do {                                                                                      \
    if ((call) != napi_ok) {                                                                \
      const napi_extended_error_info *info = NULL;                                          \
      napi_get_last_error_info(env, &info);                                                 \
      napi_throw_error(env, NULL, info && info->error_message ? info->error_message : #call); \
      return NULL;                                                                          \
    }                                                                                       \
  } while (0)


static void finalize_capture(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Capture *c = data;
  if (c->pcap != NULL) pcap_close(c->pcap);
  free(c);
}

static Capture *capture_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "not a capture handle");
    return NULL;
  }
  Capture *c = data;
  if (c->pcap == NULL) {
    throw_error(env, "ERR_CLOSED", "the capture is closed");
    return NULL;
  }
  return c;
}

/** An option of `open`, as an integer; `fallback` when absent. */
static int int_option(napi_env env, napi_value options, const char *key, int fallback, int *out) {
  napi_value value;
  napi_valuetype type;
  *out = fallback;
  if (napi_get_named_property(env, options, key, &value) != napi_ok) return 0;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined) return 1;
  if (type == napi_boolean) {
    bool flag;
    if (napi_get_value_bool(env, value, &flag) != napi_ok) return 0;
    *out = flag;
    return 1;
  }
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/**
 * A string option of `open` into `out` ("" when absent); 0 when it is not a
 * string or does not fit.
 */
static int string_option(napi_env env, napi_value options, const char *key, char *out, size_t size) {
  napi_value value;
  napi_valuetype type;
  size_t length;
  out[0] = '\0';
  if (napi_get_named_property(env, options, key, &value) != napi_ok || napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined) return 1;
  if (type != napi_string || napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok) return 0;
  return length < size - 1;
}

static const char *netns_code(int status) {
  switch (status) {
    case NETNS_MISSING: return "NETNS_MISSING";
    case NETNS_PERM: return "NETNS_PERM";
    case NETNS_NOT_NETNS: return "NETNS_NOT_NETNS";
    default: return "NETNS_ERROR";
  }
}

/** The code of an activation failure, for the JavaScript side to word its message. */
static const char *status_code(int status) {
  switch (status) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return "NO_SUCH_DEVICE";
    case PCAP_ERROR_PERM_DENIED: return "PERM_DENIED";
    case PCAP_ERROR_PROMISC_PERM_DENIED: return "PROMISC_PERM_DENIED";
    case PCAP_ERROR_IFACE_NOT_UP: return "IFACE_NOT_UP";
    case PCAP_ERROR_RFMON_NOTSUP: return "RFMON_NOTSUP";
    default: return "ERROR";
  }
}

/**
 * pcap_create and pcap_activate, inside the network namespace `netns` ("" for
 * this one) and back. On failure *p is NULL, *code and message say why.
 */
static int activate_in(const char *netns, const char *device, int snaplen, int promisc, int buffer_bytes,
                       int timeout_ms, pcap_t **out, const char **code, char *message, size_t size) {
  int home;
  *out = NULL;
  int entered = netns_enter(netns, &home, message, size);
  if (entered != NETNS_OK) {
    *code = netns_code(entered);
    return -1;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  int status = -1;
  pcap_t *p = pcap_create(device, errbuf);
  if (p == NULL) {
    *code = "ERROR";
    snprintf(message, size, "%s", errbuf);
  } else {
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, promisc);
    pcap_set_buffer_size(p, buffer_bytes);
    pcap_set_timeout(p, timeout_ms);
    // Nanoseconds where the platform has them; pcap_get_tstamp_precision tells afterwards.
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    status = pcap_activate(p);
    if (status < 0) {
      // libpcap's own words where it has them; the code says which failure it was.
      const char *detail = pcap_geterr(p);
      snprintf(message, size, "%s", detail[0] != '\0' ? detail : pcap_statustostr(status));
      *code = status_code(status);
      pcap_close(p);
      p = NULL;
    }
  }
  if (netns_leave(home) != 0) {
    // The thread could not go back: nothing it did afterwards would be where it belongs.
    fprintf(stderr, "tunscope: cannot return to the original network namespace\n");
    abort();
  }
  *out = p;
  return p == NULL ? -1 : status;
}

// open(device, { snaplen, promisc, bufferBytes, timeoutMs, netns, direction })
static napi_value open_capture(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_error(env, "ERR_INVALID_ARG_TYPE", "open(device, options)");
  char device[256];
  size_t length;
  CHECK(napi_get_value_string_utf8(env, argv[0], device, sizeof device, &length));
  int snaplen, promisc, buffer_bytes, timeout_ms;
  char netns[4096], direction[8];
  if (!int_option(env, argv[1], "snaplen", 262144, &snaplen) || !int_option(env, argv[1], "promisc", 1, &promisc) ||
      !int_option(env, argv[1], "bufferBytes", 2 * 1024 * 1024, &buffer_bytes) ||
      !int_option(env, argv[1], "timeoutMs", 100, &timeout_ms) ||
      !string_option(env, argv[1], "netns", netns, sizeof netns) ||
      !string_option(env, argv[1], "direction", direction, sizeof direction)) {
    return throw_error(env, "ERR_INVALID_ARG_TYPE", "bad options for open()");
  }

  char errbuf[PCAP_ERRBUF_SIZE] = "";
  char message[PCAP_ERRBUF_SIZE + 64];
  const char *code = "ERROR";
  pcap_t *p;
  int status = activate_in(netns, device, snaplen, promisc, buffer_bytes, timeout_ms, &p, &code, message, sizeof message);
  if (p == NULL) return throw_error(env, code, message);
  // libpcap's own check of Linux's packet type (PACKET_OUTGOING or not), behind the kernel filter's.
  if (direction[0] != '\0' &&
      pcap_setdirection(p, strcmp(direction, "out") == 0 ? PCAP_D_OUT : PCAP_D_IN) != 0) {
    snprintf(message, sizeof message, "%s", pcap_geterr(p));
    pcap_close(p);
    return throw_error(env, "ERROR", message);
  }
  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    pcap_close(p);
    return throw_error(env, "ERROR", errbuf);
  }

  Capture *c = calloc(1, sizeof *c);
  if (c == NULL) {
    pcap_close(p);
    return throw_error(env, "ERROR", "out of memory");
  }
  c->pcap = p;
  c->env = env;
  napi_value result, handle;
  if (napi_create_external(env, c, finalize_capture, NULL, &handle) != napi_ok) {
    finalize_capture(env, c, NULL);
    return throw_error(env, "ERROR", "cannot make a capture handle");
  }
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "handle", handle));
  if (!set_number(env, result, "linktype", pcap_datalink(p)) ||
      !set_number(env, result, "snaplen", pcap_snapshot(p)) ||
      !set_bool(env, result, "nano", pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO)) {
    return NULL;
  }
  // A warning (promiscuous mode not supported, ...) still gives a working capture.
  if (status > 0) {
    const char *detail = pcap_geterr(p);
    if (!set_string(env, result, "warning", detail[0] != '\0' ? detail : pcap_statustostr(status))) return NULL;
  }
  return result;
}

/** A JavaScript string as a malloc'd C string (NULL and an exception on failure). */
static char *string_of(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "expected a string");
    return NULL;
  }
  char *text = malloc(length + 1);
  if (text == NULL) {
    throw_error(env, "ERROR", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

/**
 * Replaces the program the kernel runs on the socket, leaving libpcap's own
 * (which it also runs in user space on the packets already in the ring when a
 * filter is set) as it is. For what only the kernel can evaluate: a packet's
 * type (`inbound`, `outbound` on a device that is not cooked) is ancillary data
 * that libpcap's user-space BPF cannot read, and would reject every packet of
 * the ring's first block. 0 on success.
 */
static int attach_kernel_program(pcap_t *p, const char *expression) {
  struct bpf_program program;
  if (pcap_compile(p, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0) return -1;
  // struct bpf_insn and the kernel's struct sock_filter have one layout.
  struct sock_fprog fprog = {.len = (unsigned short)program.bf_len, .filter = (struct sock_filter *)program.bf_insns};
  int failed = setsockopt(pcap_fileno(p), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
  pcap_freecode(&program);
  return failed;
}

// setFilter(handle, expression, kernelExpression?): expression for libpcap
// (kernel and user space); kernelExpression, when given, replaces it in the
// kernel alone. Returns whether the kernel took kernelExpression.
static napi_value set_filter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_error(env, "ERR_INVALID_ARG_TYPE", "setFilter(handle, expression, kernelExpression?)");
  Capture *c = capture_of(env, argv[0]);
  if (c == NULL) return NULL;
  char *expression = string_of(env, argv[1]);
  if (expression == NULL) return NULL;
  int failed = 0;
  if (expression[0] != '\0') {
    struct bpf_program program;
    failed = pcap_compile(c->pcap, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0;
    free(expression);
    if (failed) return throw_error(env, "BAD_FILTER", pcap_geterr(c->pcap));
    failed = pcap_setfilter(c->pcap, &program) != 0;
    pcap_freecode(&program);
    if (failed) return throw_error(env, "ERROR", pcap_geterr(c->pcap));
  } else {
    free(expression);
  }
  int attached = 0;
  napi_valuetype type = napi_undefined;
  if (argc >= 3) CHECK(napi_typeof(env, argv[2], &type));
  if (type == napi_string) {
    char *kernel = string_of(env, argv[2]);
    if (kernel == NULL) return NULL;
    attached = attach_kernel_program(c->pcap, kernel) == 0;
    free(kernel);
  }
  napi_value result;
  CHECK(napi_get_boolean(env, attached, &result));
  return result;
}

static void put32(uint8_t *at, uint32_t value) {
  at[0] = value;
  at[1] = value >> 8;
  at[2] = value >> 16;
  at[3] = value >> 24;
}

/** pcap_dispatch's callback: one packet into the batch; stops the dispatch when another might not fit. */
static void on_packet(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes) {
  Capture *c = (Capture *)user;
  uint8_t *at = c->data + c->used;
  uint64_t sec = (uint64_t)header->ts.tv_sec;
  put32(at, (uint32_t)sec);
  put32(at + 4, (uint32_t)(sec >> 32));
  put32(at + 8, (uint32_t)header->ts.tv_usec);
  put32(at + 12, header->caplen);
  put32(at + 16, header->len);
  memcpy(at + HEADER_BYTES, bytes, header->caplen);
  c->used += (HEADER_BYTES + header->caplen + 3) & ~(size_t)3;
  c->count++;
  if (c->capacity - c->used < HEADER_BYTES + (size_t)pcap_snapshot(c->pcap) + 3) {
    c->full = 1;
    pcap_breakloop(c->pcap);
  }
}

/** Calls the JavaScript callback with `argc` arguments; an exception it throws becomes uncaught. */
static void call_back(Capture *c, size_t argc, napi_value *argv) {
  napi_env env = c->env;
  napi_value callback, global, result;
  if (napi_get_reference_value(env, c->callback, &callback) != napi_ok || napi_get_global(env, &global) != napi_ok) return;
  if (napi_make_callback(env, c->async, global, callback, argc, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

static void stop_polling(Capture *c);

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  Capture *c = poll->data;
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  for (int i = 0; i < MAX_DISPATCHES && c->pcap != NULL; i++) {
    const char *failure = NULL;
    c->used = 0;
    c->count = 0;
    c->full = 0;
    // libuv reports an error on the socket (POLLERR) as UV_EBADF; libpcap reads
    // the socket's own error and words it ("The interface disappeared").
    int n = pcap_dispatch(c->pcap, -1, on_packet, (u_char *)c);
    if (n == PCAP_ERROR) failure = pcap_geterr(c->pcap);
    else if (status < 0 && c->count == 0) failure = uv_strerror(status);
    if (failure != NULL) {
      napi_value error, message;
      if (napi_create_string_utf8(env, failure, NAPI_AUTO_LENGTH, &message) == napi_ok &&
          napi_create_error(env, NULL, message, &error) == napi_ok) {
        stop_polling(c);
        call_back(c, 1, &error);
      }
      break;
    }
    if (c->count > 0) {
      napi_value argv[2];
      if (napi_create_uint32(env, c->count, &argv[0]) != napi_ok ||
          napi_create_double(env, (double)c->used, &argv[1]) != napi_ok) {
        break;
      }
      call_back(c, 2, argv);
    }
    if (!c->full) break;
  }
  napi_close_handle_scope(env, scope);
}

// start(handle, buffer, callback)
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_error(env, "ERR_INVALID_ARG_TYPE", "start(handle, buffer, callback)");
  Capture *c = capture_of(env, argv[0]);
  if (c == NULL) return NULL;
  if (c->polling) return throw_error(env, "ERROR", "the capture is already started");
  void *data;
  size_t capacity;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &capacity));
  if (capacity < HEADER_BYTES + (size_t)pcap_snapshot(c->pcap) + 3) {
    return throw_error(env, "ERR_OUT_OF_RANGE", "the buffer cannot hold one packet of the snapshot length");
  }
  int fd = pcap_get_selectable_fd(c->pcap);
  if (fd < 0) return throw_error(env, "ERROR", "this capture has no descriptor to wait on");
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "tunscope.capture", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &c->async));
  CHECK(napi_create_reference(env, argv[0], 1, &c->self));
  CHECK(napi_create_reference(env, argv[1], 1, &c->buffer));
  CHECK(napi_create_reference(env, argv[2], 1, &c->callback));
  c->data = data;
  c->capacity = capacity;
  if (uv_poll_init(loop, &c->poll, fd) != 0) return throw_error(env, "ERROR", "cannot watch the capture's descriptor");
  c->poll.data = c;
  c->polling = 1;
  int failed = uv_poll_start(&c->poll, UV_READABLE, on_readable);
  if (failed) {
    stop_polling(c);
    return throw_error(env, "ERROR", uv_strerror(failed));
  }
  return NULL;
}

static void on_poll_closed(uv_handle_t *handle) {
  Capture *c = handle->data;
  napi_env env = c->env;
  napi_delete_reference(env, c->callback);
  napi_delete_reference(env, c->buffer);
  napi_async_destroy(env, c->async);
  c->data = NULL;
  napi_delete_reference(env, c->self);  // may let the handle be finalized: last
}

static void stop_polling(Capture *c) {
  if (!c->polling) return;
  c->polling = 0;
  uv_poll_stop(&c->poll);
  uv_close((uv_handle_t *)&c->poll, on_poll_closed);
}

static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_error(env, "ERR_INVALID_ARG_TYPE", "stats(handle)");
  Capture *c = capture_of(env, argv[0]);
  if (c == NULL) return NULL;
  struct pcap_stat s;
  if (pcap_stats(c->pcap, &s) != 0) return throw_error(env, "ERROR", pcap_geterr(c->pcap));
  CHECK(napi_create_object(env, &result));
  if (!set_number(env, result, "received", s.ps_recv) || !set_number(env, result, "dropped", s.ps_drop) ||
      !set_number(env, result, "ifdropped", s.ps_ifdrop)) {
    return NULL;
  }
  return result;
}

static napi_value close_capture(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_error(env, "ERR_INVALID_ARG_TYPE", "close(handle)");
  void *data = NULL;
  CHECK(napi_get_value_external(env, argv[0], &data));
  Capture *c = data;
  if (c == NULL || c->pcap == NULL) return NULL;
  stop_polling(c);
  pcap_close(c->pcap);
  c->pcap = NULL;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
    {"version", NULL, version, NULL, NULL, NULL, napi_enumerable, NULL},
    {"devices", NULL, devices, NULL, NULL, NULL, napi_enumerable, NULL},
    {"open", NULL, open_capture, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setFilter", NULL, set_filter, NULL, NULL, NULL, napi_enumerable, NULL},
    {"start", NULL, start, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, stats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_capture, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
