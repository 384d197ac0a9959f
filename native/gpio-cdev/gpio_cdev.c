/*
 * gpio_cdev: a small Node-API addon over the kernel's GPIO character device,
 * uAPI v2 (linux/gpio.h, every kernel since 5.10). No libgpiod: its C API
 * broke between 1.6 (Debian Bookworm) and 2.x (Trixie); the kernel's uAPI
 * underneath both is stable.
 *
 * Everything here is a thin, synchronous wrapper around one syscall, except
 * watch(): a uv_poll_t on the request's fd, in the event loop's own thread
 * (no thread per line), that calls back when edge events are readable.
 * Errors are thrown as Error with .code (errno name), .errno and .syscall.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                          \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, NULL, "gpio_cdev: Node-API call failed: " #call); \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EIO: return "EIO";
    case ENOTTY: return "ENOTTY";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case ENOTSUP: return "ENOTSUP";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error whose message names the syscall, the target and strerror. */
static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *what) {
  char msg[512];
  napi_value err, msgv, codev, errnov, sysv;
  snprintf(msg, sizeof msg, "%s %s: %s (%s)", syscall, what, strerror(e), errno_name(e));
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msgv);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &codev);
  napi_create_error(env, codev, msgv, &err);
  napi_create_int32(env, e, &errnov);
  napi_set_named_property(env, err, "errno", errnov);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sysv);
  napi_set_named_property(env, err, "syscall", sysv);
  napi_throw(env, err);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  size_t n;
  return napi_get_value_string_utf8(env, v, buf, len, &n) == napi_ok ? 0 : -1;
}

static napi_value set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

static void set_num(napi_env env, napi_value obj, const char *key, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  napi_set_named_property(env, obj, key, v);
}

/* chipInfo(path) -> { name, label, lines } */
static napi_value chip_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char path[256];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || get_string(env, argv[0], path, sizeof path)) {
    napi_throw_type_error(env, NULL, "chipInfo(path: string)");
    return NULL;
  }
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  struct gpiochip_info ci;
  memset(&ci, 0, sizeof ci);
  if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "GPIO_GET_CHIPINFO_IOCTL", path);
  }
  close(fd);
  CHECK(napi_create_object(env, &out));
  set_str(env, out, "name", ci.name);
  set_str(env, out, "label", ci.label);
  set_num(env, out, "lines", ci.lines);
  return out;
}

/* lineInfo(path, offset) -> { offset, name, consumer, flags } (flags: GPIO_V2_LINE_FLAG_* as a number) */
static napi_value line_info(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  char path[256];
  uint32_t offset;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || get_string(env, argv[0], path, sizeof path) || napi_get_value_uint32(env, argv[1], &offset) != napi_ok) {
    napi_throw_type_error(env, NULL, "lineInfo(path: string, offset: number)");
    return NULL;
  }
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  struct gpio_v2_line_info li;
  memset(&li, 0, sizeof li);
  li.offset = offset;
  if (ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "GPIO_V2_GET_LINEINFO_IOCTL", path);
  }
  close(fd);
  CHECK(napi_create_object(env, &out));
  set_num(env, out, "offset", li.offset);
  set_str(env, out, "name", li.name);
  set_str(env, out, "consumer", li.consumer);
  set_num(env, out, "flags", (double)li.flags);
  return out;
}

/*
 * requestLine(path, offset, consumer, flags, initialValue, debounceUs) -> fd
 * One line per request. An output's initial value is part of the request, so
 * the kernel drives the line to it as it becomes an output: no glitch. The
 * returned fd is non-blocking and close-on-exec.
 */
static napi_value request_line(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], out;
  char path[256], consumer[GPIO_MAX_NAME_SIZE];
  uint32_t offset, debounce_us;
  double flags_d;
  bool initial;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || get_string(env, argv[0], path, sizeof path) ||
      napi_get_value_uint32(env, argv[1], &offset) != napi_ok ||
      get_string(env, argv[2], consumer, sizeof consumer) ||
      napi_get_value_double(env, argv[3], &flags_d) != napi_ok ||
      napi_get_value_bool(env, argv[4], &initial) != napi_ok ||
      napi_get_value_uint32(env, argv[5], &debounce_us) != napi_ok) {
    napi_throw_type_error(env, NULL,
        "requestLine(path: string, offset: number, consumer: string, flags: number, initialValue: boolean, debounceUs: number)");
    return NULL;
  }
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  req.offsets[0] = offset;
  req.num_lines = 1;
  snprintf(req.consumer, sizeof req.consumer, "%s", consumer);
  req.config.flags = (uint64_t)flags_d;
  unsigned n = 0;
  if (req.config.flags & GPIO_V2_LINE_FLAG_OUTPUT) {
    req.config.attrs[n].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    req.config.attrs[n].attr.values = initial ? 1 : 0;
    req.config.attrs[n].mask = 1;
    n++;
  }
  if (debounce_us > 0) {
    req.config.attrs[n].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
    req.config.attrs[n].attr.debounce_period_us = debounce_us;
    req.config.attrs[n].mask = 1;
    n++;
  }
  req.config.num_attrs = n;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  if (ioctl(fd, GPIO_V2_GET_LINE_IOCTL, &req) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "GPIO_V2_GET_LINE_IOCTL", path);
  }
  close(fd);
  int fl = fcntl(req.fd, F_GETFL);
  if (fl < 0 || fcntl(req.fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    int e = errno;
    close(req.fd);
    return throw_errno(env, e, "fcntl", "line request");
  }
  CHECK(napi_create_int32(env, req.fd, &out));
  return out;
}

static int get_fd(napi_env env, napi_callback_info info, size_t want, napi_value *argv, int *fd) {
  size_t argc = want;
  int32_t v;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want ||
      napi_get_value_int32(env, argv[0], &v) != napi_ok || v < 0) {
    napi_throw_type_error(env, NULL, "expected a line request fd");
    return -1;
  }
  *fd = v;
  return 0;
}

/* setValue(fd, value): logical value (active-low is applied by the kernel when requested so). */
static napi_value set_value(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  bool value;
  if (get_fd(env, info, 2, argv, &fd)) return NULL;
  if (napi_get_value_bool(env, argv[1], &value) != napi_ok) {
    napi_throw_type_error(env, NULL, "setValue(fd: number, value: boolean)");
    return NULL;
  }
  struct gpio_v2_line_values lv = {.bits = value ? 1 : 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &lv) < 0) return throw_errno(env, errno, "GPIO_V2_LINE_SET_VALUES_IOCTL", "line request");
  return NULL;
}

/* getValue(fd) -> boolean (logical) */
static napi_value get_value(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int fd;
  if (get_fd(env, info, 1, argv, &fd)) return NULL;
  struct gpio_v2_line_values lv = {.bits = 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &lv) < 0) return throw_errno(env, errno, "GPIO_V2_LINE_GET_VALUES_IOCTL", "line request");
  CHECK(napi_get_boolean(env, (lv.bits & 1) != 0, &out));
  return out;
}

/*
 * readEvents(fd) -> [{ rising, timestampNs (bigint), seqno, lineSeqno }]
 * Non-blocking: an empty array when nothing is queued.
 */
static napi_value read_events(napi_env env, napi_callback_info info) {
  napi_value argv[1], arr;
  int fd;
  if (get_fd(env, info, 1, argv, &fd)) return NULL;
  CHECK(napi_create_array(env, &arr));
  struct gpio_v2_line_event ev[16];
  uint32_t k = 0;
  for (;;) {
    ssize_t n = read(fd, ev, sizeof ev);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return throw_errno(env, errno, "read", "line request events");
    }
    if (n == 0) break;
    size_t count = (size_t)n / sizeof ev[0];
    for (size_t i = 0; i < count; i++) {
      napi_value o, v;
      CHECK(napi_create_object(env, &o));
      CHECK(napi_get_boolean(env, ev[i].id == GPIO_V2_LINE_EVENT_RISING_EDGE, &v));
      CHECK(napi_set_named_property(env, o, "rising", v));
      CHECK(napi_create_bigint_uint64(env, ev[i].timestamp_ns, &v));
      CHECK(napi_set_named_property(env, o, "timestampNs", v));
      set_num(env, o, "seqno", ev[i].seqno);
      set_num(env, o, "lineSeqno", ev[i].line_seqno);
      CHECK(napi_set_element(env, arr, k++, o));
    }
    if (count < sizeof ev / sizeof ev[0]) break;
  }
  return arr;
}

/* close(fd): releases the line(s). */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_fd(env, info, 1, argv, &fd)) return NULL;
  if (close(fd) < 0) return throw_errno(env, errno, "close", "line request");
  return NULL;
}

/* ---- watch(fd, callback) -> stop(): a uv_poll_t in the event loop ---- */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int closed;
} watcher_t;

static void on_close(uv_handle_t *h) {
  watcher_t *w = (watcher_t *)h->data;
  free(w);
}

static void release_refs(watcher_t *w) {
  if (w->callback) {
    napi_delete_reference(w->env, w->callback);
    w->callback = NULL;
  }
  if (w->async) {
    napi_async_destroy(w->env, w->async);
    w->async = NULL;
  }
}

/* Calls back with (errorCode | null): null when events are readable, an errno name when the poll failed (e.g. the chip vanished). */
static void on_poll(uv_poll_t *p, int status, int events) {
  watcher_t *w = (watcher_t *)p->data;
  if (w->closed || !w->callback) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &recv); /* napi_make_callback needs an object as the receiver */
  if (status < 0) {
    napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &arg);
  } else if (events & UV_DISCONNECT) {
    napi_create_string_utf8(env, "EDISCONNECT", NAPI_AUTO_LENGTH, &arg);
  } else {
    napi_get_null(env, &arg);
  }
  if (napi_make_callback(env, w->async, recv, cb, 1, &arg, &result) != napi_ok) {
    /* A throwing callback must not leave the exception pending for the next
       call into this addon: hand it to process 'uncaughtException'. */
    bool pending = false;
    napi_value exc;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exc) == napi_ok)
      napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value watch_stop(napi_env env, napi_callback_info info) {
  watcher_t *w;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&w));
  if (!w || w->closed) return NULL;
  w->closed = 1;
  uv_poll_stop(&w->poll);
  release_refs(w);
  uv_close((uv_handle_t *)&w->poll, on_close);
  return NULL;
}

static napi_value watch(napi_env env, napi_callback_info info) {
  napi_value argv[2], stop, name;
  int fd;
  napi_valuetype t;
  if (get_fd(env, info, 2, argv, &fd)) return NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd: number, callback: function)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "watch", "calloc");
  w->env = env;
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc < 0) {
    free(w);
    return throw_errno(env, -rc, "uv_poll_init", "line request");
  }
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  CHECK(napi_create_string_utf8(env, "gpio_cdev.watch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &w->async));
  rc = uv_poll_start(&w->poll, UV_READABLE | UV_PRIORITIZED | UV_DISCONNECT, on_poll);
  if (rc < 0) {
    w->closed = 1;
    release_refs(w);
    uv_close((uv_handle_t *)&w->poll, on_close);
    return throw_errno(env, -rc, "uv_poll_start", "line request");
  }
  CHECK(napi_create_function(env, "stop", NAPI_AUTO_LENGTH, watch_stop, w, &stop));
  return stop;
}

static napi_value flags_object(napi_env env) {
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "USED", GPIO_V2_LINE_FLAG_USED);
  set_num(env, o, "ACTIVE_LOW", GPIO_V2_LINE_FLAG_ACTIVE_LOW);
  set_num(env, o, "INPUT", GPIO_V2_LINE_FLAG_INPUT);
  set_num(env, o, "OUTPUT", GPIO_V2_LINE_FLAG_OUTPUT);
  set_num(env, o, "EDGE_RISING", GPIO_V2_LINE_FLAG_EDGE_RISING);
  set_num(env, o, "EDGE_FALLING", GPIO_V2_LINE_FLAG_EDGE_FALLING);
  set_num(env, o, "OPEN_DRAIN", GPIO_V2_LINE_FLAG_OPEN_DRAIN);
  set_num(env, o, "OPEN_SOURCE", GPIO_V2_LINE_FLAG_OPEN_SOURCE);
  set_num(env, o, "BIAS_PULL_UP", GPIO_V2_LINE_FLAG_BIAS_PULL_UP);
  set_num(env, o, "BIAS_PULL_DOWN", GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN);
  set_num(env, o, "BIAS_DISABLED", GPIO_V2_LINE_FLAG_BIAS_DISABLED);
  return o;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"chipInfo", NULL, chip_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lineInfo", NULL, line_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"requestLine", NULL, request_line, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setValue", NULL, set_value, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getValue", NULL, get_value, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readEvents", NULL, read_events, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watch", NULL, watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"FLAGS", NULL, NULL, NULL, NULL, flags_object(env), napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
